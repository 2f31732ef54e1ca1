package io.spillway.engine.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The BPE {@code model} of tokenizer.json: turns one pre-token into ids by applying the merges in
 * rank order, lowest rank first and leftmost first among equals, exactly like HF's Word::merge_all.
 * Thread-safe; results are cached per pre-token since text repeats its words.
 */
final class BpeModel {

    /** Like HF: long pieces are rare and would only crowd the cache. */
    private static final int MAX_CACHED_LENGTH = 256;
    private static final int CACHE_CAPACITY = 1 << 16;

    private final Map<String, Integer> vocab;
    /** (left id, right id) packed in a long, to the merge's rank. */
    private final Map<Long, Integer> rankOfPair;
    /** Rank to the id of the merged token. */
    private final int[] mergedId;
    private final boolean ignoreMerges;
    private final boolean byteFallback;
    private final int unkId;
    private final boolean fuseUnk;
    /** Filled until full and never evicted, as in HF: the first words seen are the frequent ones. */
    private final Map<String, int[]> cache = new ConcurrentHashMap<>();

    private BpeModel(Map<String, Integer> vocab, Map<Long, Integer> rankOfPair, int[] mergedId,
                     boolean ignoreMerges, boolean byteFallback, int unkId, boolean fuseUnk) {
        this.vocab = vocab;
        this.rankOfPair = rankOfPair;
        this.mergedId = mergedId;
        this.ignoreMerges = ignoreMerges;
        this.byteFallback = byteFallback;
        this.unkId = unkId;
        this.fuseUnk = fuseUnk;
    }

    static BpeModel fromJson(JsonField model) {
        JsonField typeField = model.get("type");
        // Files written by old versions of tokenizers leave out the type of a BPE model.
        String type = typeField.isAbsent() && !model.get("merges").isAbsent() ? "BPE" : typeField.text();
        if (!type.equals("BPE")) {
            throw typeField.fail("unsupported model type '" + type + "' (only byte-level BPE is supported)");
        }
        // GPT-2's file spells "none" as "", which changes nothing.
        for (String affix : new String[] {"continuing_subword_prefix", "end_of_word_suffix"}) {
            if (!model.get(affix).isAbsent() && !model.get(affix).text().isEmpty()) {
                throw model.get(affix).fail("word affixes are not supported (only byte-level BPE is)");
            }
        }
        JsonField dropout = model.get("dropout");
        if (!dropout.isAbsent() && dropout.node().asDouble() != 0.0) {
            throw dropout.fail("BPE dropout is for training; it would make encoding random");
        }
        Map<String, Integer> vocab = new HashMap<>();
        model.get("vocab").members().forEach((token, id) -> {
            if (id.integer() < 0) {
                throw id.fail("negative token id");
            }
            vocab.put(token, id.integer());
        });

        var merges = model.get("merges").elements();
        Map<Long, Integer> rankOfPair = new HashMap<>(merges.size() * 2);
        int[] mergedId = new int[merges.size()];
        for (int rank = 0; rank < merges.size(); rank++) {
            JsonField merge = merges.get(rank);
            String[] pair = mergePair(merge);
            Integer left = vocab.get(pair[0]);
            Integer right = vocab.get(pair[1]);
            Integer merged = vocab.get(pair[0] + pair[1]);
            if (left == null || right == null || merged == null) {
                throw merge.fail("merge of '" + pair[0] + "' and '" + pair[1] + "' uses a token missing from model.vocab");
            }
            // A repeated pair keeps its last rank, as HF's HashMap collect does.
            rankOfPair.put(pairKey(left, right), rank);
            mergedId[rank] = merged;
        }

        JsonField unk = model.get("unk_token");
        int unkId = -1;
        if (!unk.isAbsent()) {
            Integer id = vocab.get(unk.text());
            if (id == null) {
                throw unk.fail("'" + unk.text() + "' is not in model.vocab");
            }
            unkId = id;
        }
        return new BpeModel(vocab, rankOfPair, mergedId, model.get("ignore_merges").bool(false),
                model.get("byte_fallback").bool(false), unkId, model.get("fuse_unk").bool(false));
    }

    /** A merge is ["a", "b"] or, in files from before tokenizers 0.20, "a b". */
    private static String[] mergePair(JsonField merge) {
        if (merge.node().isArray()) {
            var parts = merge.elements();
            if (parts.size() == 2) {
                return new String[] {parts.get(0).text(), parts.get(1).text()};
            }
        } else if (merge.node().isTextual()) {
            String[] parts = merge.text().split(" ", -1);
            if (parts.length == 2) {
                return parts;
            }
        }
        throw merge.fail("expected a pair of tokens, got " + merge.node());
    }

    Map<String, Integer> vocab() {
        return vocab;
    }

    /** Appends the ids of one non-empty pre-token. */
    void encode(String word, IntList out) {
        if (ignoreMerges) {
            Integer whole = vocab.get(word);
            if (whole != null) {
                out.add(whole);
                return;
            }
        }
        int[] cached = cache.get(word);
        if (cached == null) {
            cached = merge(symbols(word));
            if (word.length() < MAX_CACHED_LENGTH && cache.size() < CACHE_CAPACITY) {
                cache.putIfAbsent(word, cached);
            }
        }
        out.addAll(cached);
    }

    /** One id per character, before any merge, with HF's byte-fallback and unknown-token rules. */
    private IntList symbols(String word) {
        IntList ids = new IntList();
        boolean pendingUnk = false;
        for (int i = 0; i < word.length(); ) {
            int cp = word.codePointAt(i);
            String ch = word.substring(i, i + Character.charCount(cp));
            i += ch.length();
            Integer id = vocab.get(ch);
            if (id != null) {
                if (pendingUnk) {
                    ids.add(unkId);
                    pendingUnk = false;
                }
                ids.add(id);
            } else if (!(byteFallback && addByteTokens(ch, ids)) && unkId >= 0) {
                if (pendingUnk && !fuseUnk) {
                    ids.add(unkId);
                }
                pendingUnk = true;
            }
            // Otherwise, like HF without an unk_token, the character is dropped.
        }
        if (pendingUnk) {
            ids.add(unkId);
        }
        return ids;
    }

    private boolean addByteTokens(String ch, IntList ids) {
        byte[] bytes = ch.getBytes(StandardCharsets.UTF_8);
        int[] found = new int[bytes.length];
        for (int k = 0; k < bytes.length; k++) {
            Integer id = vocab.get(String.format("<0x%02X>", bytes[k] & 0xFF));
            if (id == null) {
                return false;
            }
            found[k] = id;
        }
        ids.addAll(found);
        return true;
    }

    /**
     * Applies merges to a doubly linked list of symbols, taking the lowest (rank, position) from a
     * heap; entries made stale by an earlier merge are recognised and skipped when popped.
     */
    private int[] merge(IntList symbolList) {
        int[] ids = symbolList.toArray();
        int n = ids.length;
        int[] prev = new int[n];
        int[] next = new int[n];
        boolean[] removed = new boolean[n];
        PriorityQueue<Long> queue = new PriorityQueue<>();
        for (int i = 0; i < n; i++) {
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
            if (i + 1 < n) {
                offer(queue, ids[i], ids[i + 1], i);
            }
        }
        int live = n;
        while (!queue.isEmpty()) {
            long top = queue.poll();
            int rank = (int) (top >>> 32);
            int pos = (int) top;
            int right = next[pos];
            if (removed[pos] || right < 0 || rankOf(ids[pos], ids[right]) != rank) {
                continue;
            }
            ids[pos] = mergedId[rank];
            removed[right] = true;
            live--;
            next[pos] = next[right];
            if (next[pos] >= 0) {
                prev[next[pos]] = pos;
                offer(queue, ids[pos], ids[next[pos]], pos);
            }
            if (prev[pos] >= 0) {
                offer(queue, ids[prev[pos]], ids[pos], prev[pos]);
            }
        }
        int[] out = new int[live];
        // Symbol 0 is never the right side of a merge, so the list always starts there.
        for (int i = 0, k = 0; i >= 0 && k < live; i = next[i]) {
            out[k++] = ids[i];
        }
        return out;
    }

    private void offer(PriorityQueue<Long> queue, int left, int right, int pos) {
        int rank = rankOf(left, right);
        if (rank >= 0) {
            queue.add((long) rank << 32 | pos);
        }
    }

    private int rankOf(int left, int right) {
        Integer rank = rankOfPair.get(pairKey(left, right));
        return rank == null ? -1 : rank;
    }

    private static long pairKey(int left, int right) {
        return (long) left << 32 | (right & 0xFFFFFFFFL);
    }
}
