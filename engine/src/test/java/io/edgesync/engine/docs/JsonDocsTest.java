package io.edgesync.engine.docs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Strict parsing, RFC 7386 merge patches (apply and diff) and the three-way field merge. */
class JsonDocsTest {
  private static final JsonNodeFactory F = JsonNodeFactory.instance;

  private static JsonNode json(String text) {
    return JsonDocs.parse(text);
  }

  // ------------------------------------------------------------------ RFC 7386 apply

  /** RFC 7386 Appendix A, every row (original | patch | result); '|' separates the columns. */
  @ParameterizedTest(name = "[{index}] {0} + {1}")
  @CsvSource(
      delimiter = '|',
      quoteCharacter = '`',
      value = {
        "{\"a\":\"b\"}                 | {\"a\":\"c\"}                       | {\"a\":\"c\"}",
        "{\"a\":\"b\"}                 | {\"b\":\"c\"}                       | {\"a\":\"b\",\"b\":\"c\"}",
        "{\"a\":\"b\"}                 | {\"a\":null}                        | {}",
        "{\"a\":\"b\",\"b\":\"c\"}     | {\"a\":null}                        | {\"b\":\"c\"}",
        "{\"a\":[\"b\"]}               | {\"a\":\"c\"}                       | {\"a\":\"c\"}",
        "{\"a\":\"c\"}                 | {\"a\":[\"b\"]}                     | {\"a\":[\"b\"]}",
        "{\"a\":{\"b\":\"c\"}}         | {\"a\":{\"b\":\"d\",\"c\":null}}    | {\"a\":{\"b\":\"d\"}}",
        "{\"a\":[{\"b\":\"c\"}]}       | {\"a\":[1]}                         | {\"a\":[1]}",
        "[\"a\",\"b\"]                 | [\"c\",\"d\"]                       | [\"c\",\"d\"]",
        "{\"a\":\"b\"}                 | [\"c\"]                             | [\"c\"]",
        "{\"a\":\"foo\"}               | null                                | null",
        "{\"a\":\"foo\"}               | \"bar\"                             | \"bar\"",
        "{\"e\":null}                  | {\"a\":1}                           | {\"e\":null,\"a\":1}",
        "[1,2]                         | {\"a\":\"b\",\"c\":null}            | {\"a\":\"b\"}",
        "{}                            | {\"a\":{\"bb\":{\"ccc\":null}}}     | {\"a\":{\"bb\":{}}}",
      })
  void applyPatch_rfc7386AppendixA(String original, String patch, String result) {
    JsonNode target = json(original);
    String targetBefore = JsonDocs.text(target);

    JsonNode out = JsonDocs.applyPatch(target, json(patch));

    assertThat(out).isEqualTo(json(result));
    assertThat(JsonDocs.text(target)).as("the target is not modified").isEqualTo(targetBefore);
  }

  @Test
  void applyPatch_rfc7386Section3Example() {
    JsonNode target =
        json(
            """
            {"title": "Goodbye!",
             "author": {"givenName": "John", "familyName": "Doe"},
             "tags": ["example", "sample"],
             "content": "This will be unchanged"}
            """);
    JsonNode patch =
        json(
            """
            {"title": "Hello!",
             "phoneNumber": "+01-123-456-7890",
             "author": {"familyName": null},
             "tags": ["example"]}
            """);

    assertThat(JsonDocs.applyPatch(target, patch))
        .isEqualTo(
            json(
                """
                {"title": "Hello!",
                 "author": {"givenName": "John"},
                 "tags": ["example"],
                 "content": "This will be unchanged",
                 "phoneNumber": "+01-123-456-7890"}
                """));
  }

  @Test
  void applyPatch_toNoDocument_startsFromAnEmptyObject() {
    assertThat(JsonDocs.applyPatch(null, json("{\"a\":1,\"b\":null,\"c\":{\"d\":null}}")))
        .isEqualTo(json("{\"a\":1,\"c\":{}}"));
  }

  // ------------------------------------------------------------------ diff

  @Test
  void diff_examples() {
    assertThat(JsonDocs.diff(json("{\"a\":1,\"b\":2}"), json("{\"a\":1,\"b\":3,\"c\":4}")))
        .isEqualTo(json("{\"b\":3,\"c\":4}"));
    assertThat(JsonDocs.diff(json("{\"a\":1,\"b\":{\"x\":1,\"y\":2}}"), json("{\"b\":{\"x\":1}}")))
        .isEqualTo(json("{\"a\":null,\"b\":{\"y\":null}}"));
    assertThat(JsonDocs.diff(json("{\"a\":1}"), json("{\"a\":1}"))).isEqualTo(json("{}"));
    assertThat(JsonDocs.diff(json("{\"a\":1}"), json("[1,null]"))).isEqualTo(json("[1,null]"));
  }

  @Test
  void diff_isNull_whenTheTargetNeedsANullMemberThePatchCannotCarry() {
    // setting a member to null: a merge patch's null means "remove"
    assertThat(JsonDocs.diff(json("{\"a\":1}"), json("{\"a\":null}"))).isNull();
    // a new member that is an object holding a null
    assertThat(JsonDocs.diff(json("{}"), json("{\"a\":{\"b\":null}}"))).isNull();
    // a whole-document replacement (not an object before) holding a null
    assertThat(JsonDocs.diff(json("[1]"), json("{\"a\":null}"))).isNull();
    // a null already there and untouched is fine
    assertThat(JsonDocs.diff(json("{\"a\":null,\"b\":1}"), json("{\"a\":null,\"b\":2}")))
        .isEqualTo(json("{\"b\":2}"));
  }

  /**
   * Property: on seeded random nested objects, and random edits of them, {@code diff} returns a
   * patch that {@code applyPatch} turns back into the target, and returns null exactly when the
   * target has a null member (reached through objects) that the source does not have at the same
   * path — the one thing a merge patch cannot express.
   */
  @Test
  void property_diffThenApply_roundTrips_andDiffIsNullExactlyWhenAPatchIsImpossible() {
    int patches = 0;
    int impossible = 0;
    for (long seed = 1; seed <= 3_000; seed++) {
      SplittableRandom random = new SplittableRandom(seed);
      JsonNode from = random.nextInt(20) == 0 ? randomValue(random, 2) : randomObject(random, 0);
      JsonNode to =
          random.nextInt(5) == 0
              ? randomObject(random, 0)
              : from.isObject() ? edit((ObjectNode) from, random, 0) : randomObject(random, 0);
      String fromBefore = JsonDocs.text(from);

      JsonNode patch = JsonDocs.diff(from, to);

      boolean possible = nullPaths(to).stream().allMatch(nullPaths(from)::contains);
      assertThat(patch != null)
          .as("seed %d: diff(%s, %s) = %s", seed, from, to, patch)
          .isEqualTo(possible);
      if (patch != null) {
        patches++;
        assertThat(JsonDocs.applyPatch(from, patch))
            .as("seed %d: %s + %s", seed, from, patch)
            .isEqualTo(to);
        // and through the wire form
        JsonNode reparsed = JsonDocs.parse(JsonDocs.bytes(patch));
        assertThat(JsonDocs.applyPatch(JsonDocs.parse(fromBefore), reparsed)).isEqualTo(to);
      } else {
        impossible++;
      }
      assertThat(JsonDocs.text(from)).as("seed %d: source unchanged", seed).isEqualTo(fromBefore);
    }
    assertThat(patches).isGreaterThan(1_500);
    assertThat(impossible).isGreaterThan(100);
  }

  private static final String[] NAMES = {"a", "b", "c", "d", "e", "f", "g"};

  private static ObjectNode randomObject(SplittableRandom r, int depth) {
    ObjectNode o = F.objectNode();
    int n = r.nextInt(depth == 0 ? 1 : 0, 6);
    for (int i = 0; i < n; i++) {
      o.set(NAMES[r.nextInt(NAMES.length)], randomValue(r, depth + 1));
    }
    return o;
  }

  private static JsonNode randomValue(SplittableRandom r, int depth) {
    int kind = r.nextInt(depth >= 3 ? 5 : 7);
    return switch (kind) {
      case 0 -> F.numberNode(r.nextInt(-3, 4));
      case 1 -> F.textNode("s" + r.nextInt(3));
      case 2 -> F.booleanNode(r.nextBoolean());
      case 3 -> r.nextInt(6) == 0 ? F.nullNode() : F.numberNode(r.nextInt(10));
      case 4 -> {
        ArrayNode a = F.arrayNode();
        int n = r.nextInt(3);
        for (int i = 0; i < n; i++) {
          a.add(r.nextInt(4) == 0 ? F.nullNode() : randomValue(r, 3));
        }
        yield a;
      }
      default -> randomObject(r, depth);
    };
  }

  /** A copy of {@code o} with random fields changed, removed, added, or edited recursively. */
  private static ObjectNode edit(ObjectNode o, SplittableRandom r, int depth) {
    ObjectNode out = o.deepCopy();
    List<String> names = new ArrayList<>();
    o.fieldNames().forEachRemaining(names::add);
    for (String f : names) {
      int op = r.nextInt(6);
      if (op == 0) {
        out.remove(f);
      } else if (op == 1) {
        out.set(f, randomValue(r, depth + 1));
      } else if (op == 2 && o.get(f).isObject()) {
        out.set(f, edit((ObjectNode) o.get(f), r, depth + 1));
      } else if (op == 3 && r.nextInt(8) == 0) {
        out.set(f, F.nullNode());
      }
    }
    if (r.nextInt(3) == 0) {
      out.set(NAMES[r.nextInt(NAMES.length)], randomValue(r, depth + 1));
    }
    return out;
  }

  /** Paths (through objects only) of members whose value is JSON null. */
  private static Set<List<String>> nullPaths(JsonNode node) {
    Set<List<String>> out = new HashSet<>();
    collectNullPaths(node, new ArrayList<>(), out);
    return out;
  }

  private static void collectNullPaths(JsonNode node, List<String> path, Set<List<String>> out) {
    if (!node.isObject()) {
      return;
    }
    for (Map.Entry<String, JsonNode> e : node.properties()) {
      List<String> p = new ArrayList<>(path);
      p.add(e.getKey());
      if (e.getValue().isNull()) {
        out.add(List.copyOf(p));
      } else {
        collectNullPaths(e.getValue(), p, out);
      }
    }
  }

  // ------------------------------------------------------------------ three-way merge

  @Test
  void merge_fieldsChangedOnOneSide_areTakenFromThatSide() {
    JsonNode base = json("{\"a\":1,\"b\":1,\"c\":1,\"d\":1}");
    JsonNode ours = json("{\"a\":2,\"b\":1,\"c\":1,\"d\":1,\"e\":5}"); // a changed, e added
    JsonNode theirs = json("{\"a\":1,\"b\":3,\"c\":1}"); // b changed, d removed

    JsonDocs.MergeResult m = JsonDocs.merge(base, ours, theirs, false);

    assertThat(m.value()).isEqualTo(json("{\"a\":2,\"b\":3,\"c\":1,\"e\":5}"));
    assertThat(m.conflictingPaths()).isEmpty();
  }

  @Test
  void merge_bothChangedToTheSameValue_isNoConflict() {
    JsonDocs.MergeResult m =
        JsonDocs.merge(json("{\"a\":1,\"b\":1}"), json("{\"a\":7}"), json("{\"a\":7}"), true);
    assertThat(m.value()).isEqualTo(json("{\"a\":7}"));
    assertThat(m.conflictingPaths()).isEmpty();
  }

  @Test
  void merge_bothChangedDifferently_reportsThePath_andTheFlagChoosesTheSide() {
    JsonNode base = json("{\"a\":1,\"b\":1,\"gone\":1}");
    JsonNode ours = json("{\"a\":2,\"b\":1}"); // gone removed here...
    JsonNode theirs = json("{\"a\":3,\"b\":5,\"gone\":9}"); // ...and changed there

    JsonDocs.MergeResult oursWin = JsonDocs.merge(base, ours, theirs, true);
    JsonDocs.MergeResult theirsWin = JsonDocs.merge(base, ours, theirs, false);

    assertThat(oursWin.value()).isEqualTo(json("{\"a\":2,\"b\":5}"));
    assertThat(oursWin.conflictingPaths()).containsExactly("/a", "/gone");
    assertThat(theirsWin.value()).isEqualTo(json("{\"a\":3,\"b\":5,\"gone\":9}"));
    assertThat(theirsWin.conflictingPaths()).containsExactly("/a", "/gone");
  }

  @Test
  void merge_recursesIntoNestedObjects_reportingNestedPaths() {
    JsonNode base = json("{\"net\":{\"ip\":\"a\",\"mask\":8,\"gw\":{\"v\":1}},\"x\":1}");
    JsonNode ours = json("{\"net\":{\"ip\":\"b\",\"mask\":8,\"gw\":{\"v\":2}},\"x\":1}");
    JsonNode theirs = json("{\"net\":{\"ip\":\"a\",\"mask\":16,\"gw\":{\"v\":3}},\"x\":1}");

    JsonDocs.MergeResult m = JsonDocs.merge(base, ours, theirs, false);

    assertThat(m.value())
        .isEqualTo(json("{\"net\":{\"ip\":\"b\",\"mask\":16,\"gw\":{\"v\":3}},\"x\":1}"));
    assertThat(m.conflictingPaths()).containsExactly("/net/gw/v");
    assertThat(JsonDocs.merge(base, ours, theirs, true).value())
        .isEqualTo(json("{\"net\":{\"ip\":\"b\",\"mask\":16,\"gw\":{\"v\":2}},\"x\":1}"));
  }

  @Test
  void merge_objectReplacedByAScalarOnOneSideAndEditedOnTheOther_isAConflictOnTheWholeField() {
    JsonDocs.MergeResult m =
        JsonDocs.merge(
            json("{\"n\":{\"x\":1}}"), json("{\"n\":{\"x\":2}}"), json("{\"n\":\"off\"}"), true);
    assertThat(m.conflictingPaths()).containsExactly("/n");
    assertThat(m.value()).isEqualTo(json("{\"n\":{\"x\":2}}"));
  }

  @Test
  void merge_withoutBase_countsEveryDifferingFieldAsChangedOnBothSides() {
    JsonNode ours = json("{\"a\":1,\"b\":2,\"o\":5}");
    JsonNode theirs = json("{\"a\":1,\"b\":3,\"t\":6}");

    JsonDocs.MergeResult oursWin = JsonDocs.merge(null, ours, theirs, true);
    JsonDocs.MergeResult theirsWin = JsonDocs.merge(null, ours, theirs, false);

    assertThat(oursWin.conflictingPaths()).containsExactlyInAnyOrder("/b", "/o", "/t");
    assertThat(oursWin.value()).isEqualTo(json("{\"a\":1,\"b\":2,\"o\":5}"));
    assertThat(theirsWin.value()).isEqualTo(json("{\"a\":1,\"b\":3,\"t\":6}"));
    // a base that is not an object is no base either
    assertThat(JsonDocs.merge(json("[1]"), ours, theirs, true).conflictingPaths())
        .containsExactlyInAnyOrder("/b", "/o", "/t");
  }

  @Test
  void merge_ofNonObjects_isNull() {
    JsonNode obj = json("{\"a\":1}");
    assertThat(JsonDocs.merge(obj, json("[1]"), obj, true)).isNull();
    assertThat(JsonDocs.merge(obj, obj, json("\"s\""), true)).isNull();
    assertThat(JsonDocs.merge(obj, null, obj, true)).as("ours deleted").isNull();
    assertThat(JsonDocs.merge(obj, obj, null, true)).as("theirs deleted").isNull();
  }

  // ------------------------------------------------------------------ parse

  @Test
  void parse_acceptsAnyOneJsonValue_andWritesCompactUtf8() {
    assertThat(JsonDocs.parse(" {\"a\" : [1, 2.5, \"é\"], \"b\": null} ").toString())
        .isEqualTo("{\"a\":[1,2.5,\"é\"],\"b\":null}");
    assertThat(JsonDocs.text(json(" {\"a\" : 1 } "))).isEqualTo("{\"a\":1}");
    assertThat(JsonDocs.bytes(json("\"é\""))).isEqualTo("\"é\"".getBytes(StandardCharsets.UTF_8));
    assertThat(json("null").isNull()).isTrue();
    assertThat(json("7").asInt()).isEqualTo(7);
  }

  @Test
  void parse_refusesTrailingTokens() {
    assertThatThrownBy(() -> JsonDocs.parse("{\"a\":1} {\"b\":2}"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("not valid JSON: ")
        .hasMessageContaining("Trailing token");
    assertThatThrownBy(() -> JsonDocs.parse("{\"a\":1}x"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("not valid JSON: ");
  }

  @Test
  void parse_refusesEmptyInput() {
    for (String empty : List.of("", "   ", "\n")) {
      assertThatThrownBy(() -> JsonDocs.parse(empty))
          .as("'%s'", empty)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("empty document: expected one JSON value");
    }
  }

  @Test
  void parse_refusesNestingDeeperThan64() {
    assertThat(JsonDocs.parse("[".repeat(64) + "]".repeat(64)).isArray()).isTrue();
    assertThatThrownBy(() -> JsonDocs.parse("[".repeat(65) + "]".repeat(65)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("not valid JSON: ")
        .hasMessageContaining("nesting depth");
    String deepObject = "{\"a\":".repeat(100) + "1" + "}".repeat(100);
    assertThatThrownBy(() -> JsonDocs.parse(deepObject))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("nesting depth");
  }

  @Test
  void parse_refusesMalformedInput_namingThePosition() {
    assertThatThrownBy(() -> JsonDocs.parse("{\"a\":}"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("not valid JSON: ")
        .hasMessageContaining("Unexpected character");
    assertThatThrownBy(() -> JsonDocs.parse("{\"a\":1"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("not valid JSON: ");
    assertThatThrownBy(
            () -> JsonDocs.parse(new byte[] {'"', (byte) 0xC3, (byte) 0x28, '"'})) // bad UTF-8
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("not valid JSON: ");
  }
}
