package io.edgesync.server;

/**
 * The two databases every store test runs against ("one contract, two stores"): a test class is
 * {@code @ParameterizedClass @EnumSource(StoreKind.class)} and opens its stores through {@link
 * StoreFile}.
 */
public enum StoreKind {
  SQLITE,
  POSTGRES
}
