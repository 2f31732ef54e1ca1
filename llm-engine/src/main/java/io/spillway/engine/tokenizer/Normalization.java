package io.spillway.engine.tokenizer;

import java.text.Normalizer;
import java.util.function.UnaryOperator;

/**
 * The {@code normalizer} of tokenizer.json. Byte-level BPE models use none or NFC (Qwen2); any
 * other normalizer changes which ids come out, so it is refused rather than skipped.
 */
final class Normalization {

    private Normalization() {
    }

    static UnaryOperator<String> fromJson(JsonField json) {
        if (json.isAbsent()) {
            return UnaryOperator.identity();
        }
        String type = json.type();
        return switch (type) {
            case "NFC" -> Normalization::nfc;
            case "Sequence" -> {
                UnaryOperator<String> chain = UnaryOperator.identity();
                for (JsonField step : json.get("normalizers").elements()) {
                    UnaryOperator<String> before = chain;
                    UnaryOperator<String> next = fromJson(step);
                    chain = s -> next.apply(before.apply(s));
                }
                yield chain;
            }
            default -> throw json.get("type").fail("unsupported normalizer '" + type + "' (supported: NFC, Sequence)");
        };
    }

    private static String nfc(String s) {
        return Normalizer.isNormalized(s, Normalizer.Form.NFC) ? s : Normalizer.normalize(s, Normalizer.Form.NFC);
    }
}
