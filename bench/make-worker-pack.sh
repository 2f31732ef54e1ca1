#!/usr/bin/env bash
# Packs the inference worker's test classpath into gpu/worker.tar.xz and a Java 25 runtime with the modules
# Spring, Tomcat and the Kafka broker need into gpu/jre-worker.tar.xz (both git-ignored) for the GPU machine, whose
# calls carry at most 64 MiB: WorkerIntegrationTest's GPU test runs the worker on the CUDA backend against an
# in-process KRaft broker there (bench/gpu-worker-e2e.sh). Jars are unpacked (xz compresses class files far
# better than their zip deflate); RocksDB (only Kafka Streams uses it), Mockito and JUnit (the console launcher
# in gpu/testlib brings its own) stay behind; of the native libraries only Linux x86-64's go, and of the CUDA
# ones only cudart, cuBLAS and NVRTC's.
# Together with the JUnit launcher they come to about 58 MB, more than one call can carry beside the 39 MB tree, so
# they also go, as one archive cut in 24 MiB parts, into gpu/worker-call-1, -2, ... with the checksums of all parts
# in each: carry one folder a call, back to back (the machine keeps /tmp while it stays warm), and
# bench/gpu-worker-e2e.sh runs the test once it holds every part.
# Usage: bench/make-worker-pack.sh   (after bin/spillway build, ./mvnw -pl inference-worker test-compile
# and bench/make-jre.sh, which packs the runtime and the launcher)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
jdk=${JAVA_HOME_25:-/usr/lib/jvm/temurin-25-jdk-amd64}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
JAVA_HOME="$jdk" "$root/mvnw" -q -ntp -f "$root/pom.xml" -pl inference-worker dependency:build-classpath \
  -Dmdep.includeScope=test -Dmdep.outputFile="$tmp/cp.txt"
mkdir -p "$tmp/worker/lib"
for jar in $(tr ':' '\n' < "$tmp/cp.txt" | grep -vE '/(rocksdbjni|junit-|opentest4j|apiguardian|mockito-|byte-buddy|objenesis)'); do
  name=$(basename "$jar" .jar)
  mkdir -p "$tmp/worker/lib/$name"
  (cd "$tmp/worker/lib/$name" && unzip -q -o "$jar")
done
find "$tmp/worker/lib"/cuda-*-linux-x86_64 -name '*jni*' | grep -vE 'jni(cudart|cublas|nvrtc|javacpp)[./]' | xargs rm -rf
lib="$tmp/worker/lib"
find "$lib"/zstd-jni-* -mindepth 1 -maxdepth 1 -type d ! -name linux ! -name com ! -name META-INF -exec rm -rf {} +
find "$lib"/zstd-jni-*/linux -mindepth 1 -maxdepth 1 -type d ! -name amd64 -exec rm -rf {} +
find "$lib"/snappy-java-*/org/xerial/snappy/native -mindepth 1 -maxdepth 1 -type d ! -name Linux -exec rm -rf {} +
find "$lib"/snappy-java-*/org/xerial/snappy/native/Linux -mindepth 1 -maxdepth 1 -type d ! -name x86_64 -exec rm -rf {} +
find "$lib"/lz4-java-*/net/jpountz/util -mindepth 1 -maxdepth 1 -type d ! -name linux -exec rm -rf {} + 2>/dev/null || true
find "$lib"/lz4-java-*/net/jpountz/util/linux -mindepth 1 -maxdepth 1 -type d ! -name amd64 -exec rm -rf {} + 2>/dev/null || true
cp -r "$root/inference-worker/target/classes" "$tmp/worker/classes"
cp -r "$root/inference-worker/target/test-classes" "$tmp/worker/test-classes"
mkdir -p "$root/gpu"
tar -C "$tmp" -cf - worker | xz -T0 -9 > "$root/gpu/worker.tar.xz"
"$jdk/bin/jlink" --add-modules java.se,jdk.unsupported,jdk.incubator.vector,jdk.httpserver,jdk.crypto.ec,jdk.management,jdk.zipfs,jdk.naming.dns,jdk.security.auth \
  --strip-debug --no-header-files --no-man-pages --output "$tmp/jre-worker"
strip --strip-unneeded "$tmp/jre-worker/lib/server/libjvm.so" || true
tar -C "$tmp" -cf - jre-worker | xz -T0 -9 > "$root/gpu/jre-worker.tar.xz"
rm -rf "$root"/gpu/worker-call-*
tar -C "$root/gpu" -cf - worker.tar.xz jre-worker.tar.xz testlib/junit-platform-console-standalone-6.0.1.jar \
  | split -b 24M -d -a 1 - "$tmp/worker-part-"
(cd "$tmp" && sha256sum worker-part-*) > "$tmp/worker-parts.sha256"
for part in "$tmp"/worker-part-*; do
  dir="$root/gpu/worker-call-$((${part##*-} + 1))"
  mkdir -p "$dir" && mv "$part" "$dir/" && cp "$tmp/worker-parts.sha256" "$dir/"
done
du -sh "$root/gpu/worker.tar.xz" "$root/gpu/jre-worker.tar.xz" "$root"/gpu/worker-call-*
