// Java heap that idle hot sessions keep, against the bytes their caches count: 32 rotatekv2 sessions of
// tiny-llama's shape (6 layers, 2 KV heads of 128), each written 2048 tokens in 256-token steps with every
// layer prepared for attention as a forward step does, then left idle. Heap after a full GC, before and
// after the sessions exist. Synthetic rows as in kv-bytes.jsh. Run after bin/spillway build: see
// docs/BENCHMARKS.md for the command line.
import io.spillway.engine.kv.*; import io.spillway.engine.model.*; import io.spillway.engine.runtime.*; import io.spillway.kvquant.*; import java.util.*;
var layout = new KvLayout(6, 4, 2, 128); var rope = new Rope(RopeConfig.plain(10000), 128, 8192);
var r = new SplittableRandom(4); int n = 2048; float[] q = new float[n*512], k = new float[n*256], v = new float[n*256], h = new float[n*256];
for (int i = 0; i < k.length; i++) { k[i] = (float) r.nextGaussian(); v[i] = (float) r.nextGaussian(); h[i] = (float) r.nextGaussian(); }
var rows = new LayerRows(q, 512, k, v, 256, h, 256);
long heap() { for (int i = 0; i < 3; i++) System.gc(); var rt = Runtime.getRuntime(); return rt.totalMemory() - rt.freeMemory(); }
long base = heap();
var sessions = new ArrayList<QuantizedKvCache>(); long counted = 0;
for (int s = 0; s < 32; s++) {
  var c = new QuantizedKvCache(layout, rope, KvMethod.parse("rotatekv2:reorder=off"), null, true);
  for (int t = 0; t < n; t += 256) { for (int l = 0; l < 6; l++) { c.write(l, rows, t, 256); c.prepare(l); } c.commit(256); }
  sessions.add(c); counted += c.bytes();
}
long held = heap() - base;
System.out.printf("sessions=%d tokens=%d counted_bytes_per_session=%d heap_bytes_per_session=%d heap/counted=%.2f%n", sessions.size(), n,
    counted / sessions.size(), held / sessions.size(), (double) held / counted);
/exit
