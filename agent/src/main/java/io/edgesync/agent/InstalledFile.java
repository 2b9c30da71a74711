package io.edgesync.agent;

import java.nio.file.Path;
import java.util.Map;

/**
 * A file version installed on this device.
 *
 * @param path its path as published, e.g. {@code firmware/gateway.img}
 * @param file where it is on disk ({@code files.dir/<path>})
 * @param sha256 of its content, lower-case hex
 * @param metadata what the publisher attached (signed with the file)
 * @param previousVersion the version kept for rollback, 0 if none
 * @param previousFile where that version is on disk, null if none
 */
public record InstalledFile(
    String path,
    Path file,
    long version,
    long sizeBytes,
    String sha256,
    Map<String, String> metadata,
    long installedAtMs,
    long previousVersion,
    Path previousFile) {}
