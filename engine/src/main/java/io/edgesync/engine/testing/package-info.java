/**
 * Test support shipped with the engine, the way kafka-clients ships {@code MockProducer}: fakes of
 * the engine's ports for the tests of every module (the engine's own, the simulator's, the
 * server's). They live in the engine's main code because the engine's tests depend on the {@code
 * testing} module, so a fakes module that depended on the engine would make a build cycle.
 *
 * <ul>
 *   <li>{@link io.edgesync.engine.testing.RecordingEdgeIo} and {@link
 *       io.edgesync.engine.testing.RecordingCloudIo}: the outputs of an edge engine and of a cloud
 *       session, recorded in order (the edge one with a controllable nanosecond ticker);
 *   <li>{@link io.edgesync.engine.testing.InMemoryOutbox} and {@link
 *       io.edgesync.engine.testing.InMemoryCloudStore}: the two stream stores, with the real
 *       stores' semantics, in memory;
 *   <li>{@link io.edgesync.engine.testing.ForwardingCloudStore} and {@link
 *       io.edgesync.engine.testing.ForwardingCommandStore}: pass every call on to a real store; a
 *       test overrides one method to plant a fault or a bug (for documents, {@link
 *       io.edgesync.engine.docs.ForwardingDocumentStore}, which the server uses too).
 * </ul>
 *
 * <p>Not for production use: nothing here is durable, and the fakes are not thread safe unless
 * their class says so.
 */
package io.edgesync.engine.testing;
