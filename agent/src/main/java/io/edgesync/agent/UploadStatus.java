package io.edgesync.agent;

/**
 * An upload of this device.
 *
 * @param path {@code <collection>/<name>}
 * @param version 1, 2, ... per path on this device
 * @param sha256 of its content, lower-case hex
 * @param state {@code queued} (the cloud has said nothing yet), {@code uploading}, {@code stored}
 *     (final: the cloud holds it) or {@code failed} (final, with {@code reason})
 * @param bytesDone bytes the cloud holds, as it last reported
 */
public record UploadStatus(
    String collection,
    String name,
    String path,
    long version,
    long sizeBytes,
    String sha256,
    String state,
    long bytesDone,
    String reason) {}
