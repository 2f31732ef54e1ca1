package io.spillway.gateway.jobs;

import io.spillway.engine.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Cuts a document into windows of at most {@code chunkTokens} model tokens, each starting
 * {@code overlapTokens} before the previous one ended so no sentence is summarized without its lead-in,
 * and groups texts into as few prompts as fit the same budget.
 */
final class Chunker {
  private final Tokenizer tokenizer;
  private final int chunkTokens;
  private final int overlapTokens;

  Chunker(Tokenizer tokenizer, int chunkTokens, int overlapTokens) {
    if (chunkTokens < 16 || overlapTokens < 0 || overlapTokens >= chunkTokens / 2) {
      throw new IllegalArgumentException("chunk tokens must be at least 16 and the overlap under half of them, got "
          + chunkTokens + " and " + overlapTokens);
    }
    this.tokenizer = tokenizer;
    this.chunkTokens = chunkTokens;
    this.overlapTokens = overlapTokens;
  }

  int tokens(String text) {
    return tokenizer.encode(text, false).length;
  }

  List<String> chunks(String document) {
    int[] ids = tokenizer.encode(document, false);
    List<String> out = new ArrayList<>();
    for (int start = 0; ; start += chunkTokens - overlapTokens) {
      int end = Math.min(ids.length, start + chunkTokens);
      out.add(tokenizer.decode(Arrays.copyOfRange(ids, start, end), true));
      if (end == ids.length) {
        return out;
      }
    }
  }

  /** Consecutive texts joined (blank-line separated) while they fit one chunk; a text alone always forms a group. */
  List<String> groups(List<String> texts) {
    List<String> out = new ArrayList<>();
    StringBuilder group = new StringBuilder();
    int used = 0;
    for (String t : texts) {
      int n = tokens(t) + 2;
      if (used > 0 && used + n > chunkTokens) {
        out.add(group.toString());
        group.setLength(0);
        used = 0;
      }
      group.append(used > 0 ? "\n\n" : "").append(t.strip());
      used += n;
    }
    out.add(group.toString());
    return out;
  }
}
