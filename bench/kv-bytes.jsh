// Stored bytes of a 4096-token cache, tiny-llama shape (6 layers, 2 KV heads of 128), per method, vs fp16.
// Synthetic rows (Gaussian keys and values, an activation spike every 97 tokens for the sink rule).
// Run after bin/spillway build: see docs/BENCHMARKS.md for the command line.
import io.spillway.engine.kv.*; import io.spillway.engine.model.*; import io.spillway.engine.runtime.*; import io.spillway.kvquant.*; import java.util.*;
var layout = new KvLayout(6, 4, 2, 128); var rope = new Rope(RopeConfig.plain(10000), 128, 8192);
var r = new SplittableRandom(4); int n = 4096; float[] q = new float[n*512], k = new float[n*256], v = new float[n*256], h = new float[n*256];
for (int i = 0; i < k.length; i++) { k[i] = (float) r.nextGaussian(); v[i] = (float) r.nextGaussian(); h[i] = (float) r.nextGaussian(); }
for (int t = 0; t < n; t += 97) h[t*256 + 3] = 50 + t % 13;
var rows = new LayerRows(q, 512, k, v, 256, h, 256);
for (String m : new String[]{"rotatekv2:reorder=off", "rotatekv2:reorder=off,sinks=0", "kivi2", "int2", "akvq2:reorder=off"}) {
  var c = new QuantizedKvCache(layout, rope, KvMethod.parse(m), null, true);
  var f = new DenseKvCache(layout, rope, DenseKvCache.Precision.F16, 16);
  for (int t = 0; t < n; t += 64) { for (int l = 0; l < 6; l++) { c.write(l, rows, t, 64); f.write(l, rows, t, 64);} c.commit(64); f.commit(64); }
  System.out.printf("%s tokens=%d bits=%.3f bytes=%d fp16_bytes=%d ratio=%.2f%n", m, c.length(), c.bitsPerElement(), c.bytes(), f.bytes(), (double) f.bytes() / c.bytes());
}
/exit
