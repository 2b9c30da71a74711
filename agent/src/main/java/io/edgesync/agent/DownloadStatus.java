package io.edgesync.agent;

/**
 * Where a download stands on this device.
 *
 * @param state {@code downloading}, {@code verified}, {@code installed} or {@code failed}
 * @param bytesDone bytes held verified, of {@code bytesTotal}
 * @param reason why it failed ("bad_signature: ...", "hash_mismatch: ...", "install_failed: ..."),
 *     else null
 */
public record DownloadStatus(
    String path, long version, String state, long bytesDone, long bytesTotal, String reason) {}
