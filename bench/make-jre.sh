#!/usr/bin/env bash
# Packs a small Java 25 runtime plus the engine's jars into gpu/ (git-ignored) for the GPU machine,
# which has no Java and takes at most 64 MiB with the repository. Only what the engine's eval and
# bench commands load goes: no chat templates (Jinjava and its dependencies stay behind); the
# CUDA backend's JavaCPP jars (the cudart, cuBLAS and NVRTC natives, about 4 MB) and the transformers peer script do.
# gpu/testlib gets JUnit's console launcher, AssertJ and llm-engine's test classes, for the GPU tests
# that CI skips (bench/gpu-measure.sh runs them).
# Usage: bench/make-jre.sh   (after bin/spillway build and ./mvnw -pl llm-engine test-compile)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
jdk=${JAVA_HOME_25:-/usr/lib/jvm/temurin-25-jdk-amd64}
out="$root/gpu"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$jdk/bin/jlink" --add-modules java.base,java.logging,java.management,jdk.unsupported,jdk.incubator.vector \
  --strip-debug --no-header-files --no-man-pages --output "$tmp/jre"
strip --strip-unneeded "$tmp/jre/lib/server/libjvm.so" || true
mkdir -p "$out/lib"
tar -C "$tmp" -cJf "$out/jre.tar.xz" jre
rm -f "$out"/lib/*.jar
cp "$root/llm-engine/target/llm-engine.jar" "$root"/llm-engine/target/lib/{kv-quant,jackson-,javacpp-,cuda-}*.jar "$out/lib/"
# The engine loads only cudart, cuBLAS and NVRTC: the other CUDA libraries' JNI glue (NPP, cuFFT, cuDNN...) stays behind.
natives=$(ls "$out"/lib/cuda-*-linux-x86_64.jar)
zip -q -d "$natives" $(unzip -Z1 "$natives" | grep -E 'libjni|native-image/linux-x86_64/jni' | grep -vE 'jni(cudart|cublas|nvrtc|javacpp)[./]')
cp "$root/bench/hf-decode-bench.py" "$root/bench/plot-decode.py" "$out/"
mkdir -p "$out/testlib"
m2=${MAVEN_REPO:-$HOME/.m2/repository}
JAVA_HOME="$jdk" "$root/mvnw" -q -ntp dependency:copy -Dartifact=org.junit.platform:junit-platform-console-standalone:6.0.1 -DoutputDirectory="$out/testlib"
cp "$m2"/org/assertj/assertj-core/3.27.7/assertj-core-3.27.7.jar "$out/testlib/"
(cd "$root/llm-engine/target/test-classes" && "$jdk/bin/jar" cf "$out/testlib/llm-engine-tests.jar" .)
du -sh "$out/jre.tar.xz" "$out/lib"
