package io.edgesync.engine.docs;

/**
 * A document's identity in store naming: its scope ({@code device:<id>}, {@code fleet}, {@code
 * group:<name>}), collection and key. Ordered by scope, then collection, then key.
 */
public record DocKey(String scope, String collection, String key) implements Comparable<DocKey> {
  @Override
  public int compareTo(DocKey o) {
    int c = scope.compareTo(o.scope);
    if (c == 0) {
      c = collection.compareTo(o.collection);
    }
    return c != 0 ? c : key.compareTo(o.key);
  }

  @Override
  public String toString() {
    return scope + "/" + collection + "/" + key;
  }
}
