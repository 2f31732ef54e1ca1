package io.spillway.engine.tokenizer;

import io.spillway.engine.CheckpointException;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.function.UnaryOperator;

/**
 * A Hugging Face {@code tokenizer.json} byte-level BPE tokenizer (the GPT-2, Llama-3 and Qwen2
 * family) whose ids and decoded text are the same as those of the {@code tokenizers} library.
 *
 * <p>Encoding follows HF's pipeline: added tokens are cut out of the raw text, the rest is
 * normalized, cut by the pre-tokenizer into pieces spelled in the byte-level alphabet, each piece
 * is merged by BPE, and the post-processor adds the template's special tokens. Decoding maps every
 * token back to its bytes and reads them as UTF-8, replacing invalid sequences by U+FFFD.
 *
 * <p>Immutable apart from an internal cache, and safe to share between threads.
 */
public final class Tokenizer {

    private static final byte[] NO_BYTES = new byte[0];

    private final AddedTokenMatcher verbatimAddedTokens;
    private final AddedTokenMatcher normalizedAddedTokens;
    private final UnaryOperator<String> normalizer;
    private final PreTokenizer preTokenizer;
    private final BpeModel model;
    private final PostProcessor postProcessor;
    private final Map<String, Integer> addedIds = new HashMap<>();
    /** By id: the token's text, the bytes it decodes to, and whether it is special. */
    private final String[] tokens;
    private final byte[][] tokenBytes;
    private final boolean[] special;
    private final OptionalInt bosId;

    private Tokenizer(List<AddedToken> added, UnaryOperator<String> normalizer, PreTokenizer preTokenizer,
                      BpeModel model, PostProcessor postProcessor, String configBosToken) {
        this.normalizer = normalizer;
        this.preTokenizer = preTokenizer;
        this.model = model;
        this.postProcessor = postProcessor;

        Map<AddedToken, String> verbatim = new LinkedHashMap<>();
        Map<AddedToken, String> normalized = new LinkedHashMap<>();
        int maxId = model.vocab().values().stream().mapToInt(Integer::intValue).max().orElse(-1);
        for (AddedToken token : added) {
            if (token.normalized()) {
                // HF matches a normalized token in normalized text, so its pattern is normalized too.
                normalized.put(token, normalizer.apply(token.content()));
            } else {
                verbatim.put(token, token.content());
            }
            addedIds.putIfAbsent(token.content(), token.id());
            maxId = Math.max(maxId, token.id());
        }
        this.verbatimAddedTokens = new AddedTokenMatcher(verbatim);
        this.normalizedAddedTokens = new AddedTokenMatcher(normalized);

        tokens = new String[maxId + 1];
        special = new boolean[maxId + 1];
        model.vocab().forEach((text, id) -> tokens[id] = text);
        for (AddedToken token : added) {
            tokens[token.id()] = token.content();
            special[token.id()] = token.special();
        }
        tokenBytes = new byte[tokens.length][];
        for (int id = 0; id < tokens.length; id++) {
            tokenBytes[id] = tokens[id] == null ? null : ByteLevel.tokenBytes(tokens[id]);
        }

        if (postProcessor.prefix().length > 0) {
            bosId = OptionalInt.of(postProcessor.prefix()[0]);
        } else {
            bosId = configBosToken == null ? OptionalInt.empty() : tokenId(configBosToken);
        }
    }

    /**
     * Loads {@code tokenizer.json} from a Hugging Face model directory, and the BOS token name from
     * {@code tokenizer_config.json} when there is one.
     *
     * @throws CheckpointException naming the file and field when a file is missing or malformed or
     *                             uses a model, normalizer, pre-tokenizer, post-processor or decoder
     *                             that this class does not implement
     */
    public static Tokenizer load(Path modelDir) {
        JsonField root = JsonField.read(modelDir.resolve("tokenizer.json"));
        BpeModel model = BpeModel.fromJson(root.get("model"));
        JsonField decoder = root.get("decoder");
        if (decoder.isAbsent() || !decoder.type().equals("ByteLevel")) {
            throw decoder.get("type").fail("only the ByteLevel decoder is supported");
        }
        return new Tokenizer(
                AddedToken.listFromJson(root.get("added_tokens")),
                Normalization.fromJson(root.get("normalizer")),
                PreTokenizer.fromJson(root.get("pre_tokenizer")),
                model,
                PostProcessor.fromJson(root.get("post_processor")),
                configBosToken(modelDir.resolve("tokenizer_config.json")));
    }

    /** tokenizer_config.json gives bos_token as a string or, in older files, as {"content": ...}. */
    private static String configBosToken(Path configFile) {
        if (!Files.exists(configFile)) {
            return null;
        }
        JsonField bos = JsonField.read(configFile).get("bos_token");
        if (bos.isAbsent()) {
            return null;
        }
        return bos.node().isObject() ? bos.get("content").text() : bos.text();
    }

    /**
     * Encodes text to token ids.
     *
     * @param addSpecialTokens add the post-processor's special tokens (for Llama-3, BOS in front)
     */
    public int[] encode(String text, boolean addSpecialTokens) {
        IntList ids = new IntList();
        verbatimAddedTokens.split(Utf8.replaceLoneSurrogates(text), ids::add,
                raw -> normalizedAddedTokens.split(normalizer.apply(raw), ids::add,
                        part -> preTokenizer.split(part, piece -> model.encode(piece, ids))));
        int[] out = ids.toArray();
        return addSpecialTokens ? postProcessor.apply(out) : out;
    }

    /** Encodes UTF-8 bytes; invalid sequences are read as U+FFFD, so this never fails on bad input. */
    public int[] encode(byte[] utf8, boolean addSpecialTokens) {
        return encode(Utf8.decodeLossy(utf8, 0, utf8.length), addSpecialTokens);
    }

    /**
     * Decodes token ids to text; bytes that are not valid UTF-8 (a character cut in the middle)
     * become U+FFFD.
     *
     * @throws IllegalArgumentException for an id that is not in the vocabulary
     */
    public String decode(int[] ids, boolean skipSpecialTokens) {
        int length = 0;
        for (int id : ids) {
            length += bytesOf(id, skipSpecialTokens).length;
        }
        byte[] all = new byte[length];
        int at = 0;
        for (int id : ids) {
            byte[] b = bytesOf(id, skipSpecialTokens);
            System.arraycopy(b, 0, all, at, b.length);
            at += b.length;
        }
        return Utf8.decodeLossy(all, 0, length);
    }

    /** A decoder for generated tokens, one at a time, that keeps special tokens. */
    public StreamingDecoder streamingDecoder() {
        return streamingDecoder(false);
    }

    public StreamingDecoder streamingDecoder(boolean skipSpecialTokens) {
        return new StreamingDecoder(this, skipSpecialTokens);
    }

    byte[] bytesOf(int id, boolean skipSpecialTokens) {
        requireKnown(id);
        return skipSpecialTokens && special[id] ? NO_BYTES : tokenBytes[id];
    }

    private void requireKnown(int id) {
        if (id < 0 || id >= tokens.length || tokens[id] == null) {
            throw new IllegalArgumentException("unknown token id " + id + " (vocabulary size " + tokens.length + ")");
        }
    }

    /** Largest id plus one, over the BPE vocabulary and the added tokens. */
    public int vocabSize() {
        return tokens.length;
    }

    /** The id of a token given in its vocabulary spelling (byte-level, e.g. "Ġthe"). */
    public OptionalInt tokenId(String token) {
        Integer id = addedIds.get(token);
        if (id == null) {
            id = model.vocab().get(token);
        }
        return id == null ? OptionalInt.empty() : OptionalInt.of(id);
    }

    /**
     * The vocabulary spelling of a token (byte-level, e.g. "Ġthe").
     *
     * @throws IllegalArgumentException for an id that is not in the vocabulary
     */
    public String token(int id) {
        requireKnown(id);
        return tokens[id];
    }

    /** Whether the id is an added token marked special (skipped by {@code decode(ids, true)}). */
    public boolean isSpecial(int id) {
        return id >= 0 && id < special.length && special[id];
    }

    /** The token the post-processor puts first or, failing that, tokenizer_config's bos_token. */
    public OptionalInt bosId() {
        return bosId;
    }
}
