package io.edgesync.agent;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgesync.protocol.Hlc;

/**
 * A document as this device holds it.
 *
 * @param scope {@code device}, {@code fleet} or {@code group:<name>}
 * @param value the JSON value; never null in what {@link Documents} returns (a deleted document is
 *     absent), null only for a delete passed to a {@link Documents#watch} listener
 * @param version the cloud's version of the document this value was made on (0: never synced)
 * @param hlc the hybrid logical clock stamp of the write that made this value
 * @param pending a local change that waits for the cloud's outcome
 * @param conflicted the cloud kept this value and flagged a conflict for review
 */
public record Document(
    String scope,
    String collection,
    String key,
    JsonNode value,
    long version,
    Hlc hlc,
    boolean pending,
    boolean conflicted) {}
