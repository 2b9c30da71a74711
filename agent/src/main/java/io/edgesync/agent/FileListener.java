package io.edgesync.agent;

/** Told of every new version installed ({@link Files#watch}). */
@FunctionalInterface
public interface FileListener {
  void installed(InstalledFile file);
}
