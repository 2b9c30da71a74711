package io.edgesync.sim.internal;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgesync.agent.Document;
import io.edgesync.agent.internal.EdgeNode;
import io.edgesync.protocol.wire.DocChange;
import io.edgesync.protocol.wire.Frame;

/**
 * What {@link EdgeNode} needs from the simulation, for one run (incarnation) of one edge: its loop
 * is the world's event queue, its time the edge's {@link NodeClock}, its link the simulated {@link
 * Network}; as observer it records what the edge sends and receives in the trace, the ledgers and
 * the stats. Tasks of a run that crashed do nothing (the incarnation check).
 *
 * <p>EdgeNode's deferrals become events at the current simulated time, in the order asked; a timer
 * becomes an event after the delay measured by the edge's clock (its drift included). Not thread
 * safe: owned by the simulation thread.
 */
final class SimEdgeWiring
    implements EdgeNode.Scheduler, EdgeNode.Link<SimConnection>, EdgeNode.Observer<SimConnection> {
  private final World world;
  private final SimEdge edge;
  private final int incarnation;

  SimEdgeWiring(World world, SimEdge edge) {
    this.world = world;
    this.edge = edge;
    this.incarnation = edge.incarnation();
  }

  private boolean current() {
    return incarnation == edge.incarnation() && edge.alive();
  }

  // ---------------------------------------------------------------- Scheduler

  @Override
  public void post(Runnable task) {
    world
        .events()
        .at(
            world.now(),
            () -> {
              if (current()) {
                task.run();
              }
            });
  }

  @Override
  public EdgeNode.Timer schedule(long delayMs, Runnable task) {
    boolean[] cancelled = {false};
    world
        .events()
        .at(
            world.now() + edge.clock().trueDurationMs(delayMs),
            () -> {
              if (!cancelled[0] && current()) {
                task.run();
              }
            });
    return () -> cancelled[0] = true;
  }

  @Override
  public long nowMs() {
    return edge.engineNow();
  }

  @Override
  public long nanoTime() {
    return edge.tickerNanos();
  }

  // ---------------------------------------------------------------- Link

  @Override
  public SimConnection newAttempt() {
    return world.network().open(edge);
  }

  @Override
  public void connect(SimConnection c) {
    world.trace(edge.deviceId() + " connecting " + c.name());
    world.network().connect(c);
  }

  @Override
  public void send(SimConnection c, Frame frame, byte[] bytes) {
    String label = Describe.frame(frame);
    world.trace(c.name() + " edge > " + label);
    c.toCloud.send(bytes, label, frame);
  }

  @Override
  public void close(SimConnection c, String reason) {
    world.network().closeFromEdge(c, reason);
  }

  @Override
  public void abandon(SimConnection c) {
    c.edgeGone = true;
  }

  // ---------------------------------------------------------------- Observer

  @Override
  public void sending(Frame frame) {
    if (frame.hasError()) {
      world.protocolError(edge.deviceId() + " sent " + Describe.frame(frame));
    }
    if (frame.hasDocChanges()) {
      for (DocChange ch : frame.getDocChanges().getChangesList()) {
        world.docLedger().edgeSent(edge.deviceId(), ch, wholeValue(ch));
        if (ch.getBodyCase() == DocChange.BodyCase.MERGE_PATCH) {
          world.stats().add("docs.patchesSent", 1);
        }
      }
    }
    if (frame.hasBatch()) {
      world.stats().add("batches." + frame.getBatch().getCodec(), 1);
    }
    if (frame.hasFileRequest() && frame.getFileRequest().hasDeltaBaseVersion()) {
      world.stats().add("files.deltaRequests", 1);
    }
  }

  @Override
  public void received(SimConnection c, Frame frame) {
    String label = Describe.frame(frame); // what the cloud sent it as
    world.trace(c.name() + " edge < " + label);
    if (frame.hasError()) {
      world.protocolError(c.name() + " cloud sent " + label);
    }
    if (frame.hasFileData()) {
      world.stats().add("files.dataFrames." + frame.getFileData().getBodyCase(), 1);
      world.stats().add("files.dataBytesToEdge", bytesOf(frame));
    }
    if (frame.hasCommand()) {
      world
          .docLedger()
          .commandDelivered(
              edge.deviceId(),
              frame.getCommand().getId(),
              world.now() + edge.clock().trueDurationMs(frame.getCommand().getTtlRemainingMs()));
    } else if (frame.hasDocUpdates() || frame.hasDocAck() || frame.hasCommandStatus()) {
      world.docLedger().moved();
      if (frame.hasDocAck()) {
        world.stats().add("docs.resendFull", frame.getDocAck().getResendFullCount());
        if (frame.getDocAck().getRefusedCount() > 0) {
          world.docLedger().edgeRefused(edge.deviceId(), frame.getDocAck().getRefusedList());
        }
      }
    }
  }

  @Override
  public void opened(SimConnection c) {
    c.edgeOpen = true;
    world.trace(edge.deviceId() + " connected " + c.name());
  }

  @Override
  public void ended(SimConnection c, boolean wasOpen, String reason) {
    c.edgeOpen = false;
    c.edgeGone = true;
    if (wasOpen) {
      world.trace(c.name() + " edge sees " + reason);
    } else {
      world.trace(edge.deviceId() + " connect " + c.id + " failed: " + reason);
    }
  }

  @Override
  public void disconnecting(SimConnection c, String reason) {
    world.trace(edge.deviceId() + " disconnects " + c.name() + ": " + reason);
  }

  private static long bytesOf(Frame frame) {
    return frame.getSerializedSize();
  }

  /** What a change stands for: its value, null for a delete, the replica's value for a patch. */
  private JsonNode wholeValue(DocChange ch) {
    return switch (ch.getBodyCase()) {
      case VALUE -> DocLedger.json(ch.getValue().toByteArray());
      case DELETED -> null;
      default ->
          edge.docs()
              .replica()
              .get(
                  ch.getScope().isEmpty() ? "device" : ch.getScope(),
                  ch.getCollection(),
                  ch.getKey())
              .map(Document::value)
              .orElseThrow(
                  () ->
                      new SimFailure(
                          edge.deviceId()
                              + " sent a merge patch for "
                              + ch.getCollection()
                              + "/"
                              + ch.getKey()
                              + " but holds no value for it"));
    };
  }
}
