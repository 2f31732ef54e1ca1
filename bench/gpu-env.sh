# Sourced by the bench/gpu-*.sh scripts on the GPU machine: unpacks the runtime that bench/make-jre.sh packed into
# gpu/, puts the CUDA 13 libraries of PyTorch's wheels on the library path, and sets J to the java command line
# (each script adds its class path).
tar -xJf gpu/jre.tar.xz -C /tmp
export LD_LIBRARY_PATH=/opt/torch/.venv/lib/python3.12/site-packages/nvidia/cu13/lib:${LD_LIBRARY_PATH:-}
J=(/tmp/jre/bin/java --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector -Xmx24g)
