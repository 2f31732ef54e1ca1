package io.spillway.engine.tokenizer;

import java.util.HashMap;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * The {@code post_processor} of tokenizer.json, for a single sequence: the special tokens that
 * {@code encode(text, true)} puts around the text. TemplateProcessing's single template, HF's
 * ByteLevel processor (which only trims offsets, so adds nothing), and a Sequence of those.
 */
record PostProcessor(int[] prefix, int[] suffix) {

    static final PostProcessor NONE = new PostProcessor(new int[0], new int[0]);

    static PostProcessor fromJson(JsonField json) {
        if (json.isAbsent()) {
            return NONE;
        }
        String type = json.type();
        return switch (type) {
            case "ByteLevel" -> NONE;
            case "TemplateProcessing" -> template(json);
            case "Sequence" -> json.get("processors").elements().stream()
                    .map(PostProcessor::fromJson)
                    .reduce(NONE, PostProcessor::then);
            default -> throw json.get("type").fail(
                    "unsupported post-processor '" + type + "' (supported: TemplateProcessing, ByteLevel, Sequence)");
        };
    }

    private static PostProcessor template(JsonField json) {
        Map<String, int[]> specials = new HashMap<>();
        json.get("special_tokens").members().forEach((name, entry) -> specials.put(name,
                entry.get("ids").elements().stream().mapToInt(JsonField::integer).toArray()));
        JsonField single = json.get("single");
        IntList before = new IntList();
        IntList after = new IntList();
        boolean seenSequence = false;
        for (JsonField piece : single.elements()) {
            if (!piece.get("Sequence").isAbsent()) {
                String id = piece.get("Sequence").get("id").text();
                if (!id.equals("A") || seenSequence) {
                    throw piece.fail("a single-sequence template must use $A exactly once");
                }
                seenSequence = true;
            } else {
                JsonField name = piece.get("SpecialToken").get("id");
                int[] ids = specials.get(name.text());
                if (ids == null) {
                    throw name.fail("'" + name.text() + "' is not in post_processor.special_tokens");
                }
                (seenSequence ? after : before).addAll(ids);
            }
        }
        if (!seenSequence) {
            throw single.fail("the template has no $A");
        }
        return new PostProcessor(before.toArray(), after.toArray());
    }

    /** This processor, then {@code outer} around its result. */
    private PostProcessor then(PostProcessor outer) {
        return new PostProcessor(
                IntStream.concat(IntStream.of(outer.prefix), IntStream.of(prefix)).toArray(),
                IntStream.concat(IntStream.of(suffix), IntStream.of(outer.suffix)).toArray());
    }

    int[] apply(int[] ids) {
        if (prefix.length == 0 && suffix.length == 0) {
            return ids;
        }
        int[] out = new int[prefix.length + ids.length + suffix.length];
        System.arraycopy(prefix, 0, out, 0, prefix.length);
        System.arraycopy(ids, 0, out, prefix.length, ids.length);
        System.arraycopy(suffix, 0, out, prefix.length + ids.length, suffix.length);
        return out;
    }
}
