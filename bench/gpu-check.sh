#!/usr/bin/env bash
# The GPU check of issue 16, prepared for a session that is lent a GPU machine (docs/gpu.md).
# UNTESTED ON A GPU: written and run here (CPU only) on 2026-12-02; the `run` half has only been
# exercised on a machine where cuda and webgpu do not load.
#
# Two halves:
#   bench/gpu-check.sh pack   here, in the repository, with network for apt-get: builds dist/ and
#                             writes tmp/gpu-kit.tar.xz (about 40 MB; tmp/ is git-ignored): the
#                             Node.js binary, dist/ without source maps, onnxruntime-node 1.30.0's
#                             linux-x64 files and its two JS dependencies, the Vulkan loader .debs
#                             (the device README's list, plus vulkan-tools for vulkaninfo), and
#                             ONNX Runtime's CUDA provider files when ORT_CUDA_DIR names a folder
#                             holding them. GPU_KIT_COMPRESS=gz packs faster and larger.
#   bench/gpu-check.sh run    there, in the repository root, the kit carried
#                             (run tool: carry ["tmp/gpu-kit.tar.xz"]): unpacks the loaders into /,
#                             finds NVIDIA's Vulkan ICD, probes every provider, runs the engine-gpu
#                             benchmark (MLP and CNN, training and inference, each GPU provider
#                             against 2-thread CPU) and prints ONE JSON line on stdout. Logs go to
#                             stderr and, when $OUT is set, to $OUT/gpu-check.log.
# Environment: STEPS (timed training steps, default 200), BENCH_TIMEOUT (seconds, default 420).
set -euo pipefail
cd "$(dirname "$0")/.."
KIT_FILE=${GPU_KIT_FILE:-tmp/gpu-kit.tar.xz}

pack() {
  local kit=tmp/gpu-kit
  rm -rf "$kit" && mkdir -p "$kit/gl" "$kit/tools" "$kit/cuda" "$kit/node_modules/@bufbuild" "$kit/bin"
  npm run build >&2
  mkdir -p "$kit/dist" && (cd dist && find . -name '*.js' -exec cp --parents -t "../$kit/dist" {} +)
  cp -r node_modules/onnxruntime-common "$kit/node_modules/"
  cp -r node_modules/@bufbuild/protobuf "$kit/node_modules/@bufbuild/"
  local ort=node_modules/onnxruntime-node
  mkdir -p "$kit/$ort/bin/napi-v6/linux"
  cp "$ort/package.json" "$kit/$ort/" && cp -r "$ort/dist" "$kit/$ort/"
  cp -r "$ort/bin/napi-v6/linux/x64" "$kit/$ort/bin/napi-v6/linux/"
  cp -L "$(command -v node)" "$kit/bin/node"
  if [[ -n "${ORT_CUDA_DIR:-}" ]]; then
    cp "$ORT_CUDA_DIR"/libonnxruntime_providers_shared.so "$ORT_CUDA_DIR"/libonnxruntime_providers_cuda.so "$kit/cuda/"
  fi
  # The device README's Vulkan loader recipe, for amd64 whatever this machine is.
  local o=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64)
  mkdir -p /tmp/amd64/partial
  apt-get "${o[@]}" update >&2
  (cd "$kit/gl" && apt-get "${o[@]}" download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2 >&2)
  # vulkaninfo and the X/Wayland client libraries it links: unpacked apart from / on the GPU machine.
  (cd "$kit/tools" && apt-get "${o[@]}" download vulkan-tools libwayland-client0 libx11-6 libx11-data libxcb1 \
    libxau6 libxdmcp6 libbsd0 libmd0 >&2)
  if [[ "${GPU_KIT_COMPRESS:-xz}" == gz ]]; then
    KIT_FILE=tmp/gpu-kit.tar.gz
    tar -czf "$KIT_FILE" -C "$kit" .
  else
    tar -cf - -C "$kit" . | xz -6 -T0 >"$KIT_FILE"
  fi
  rm -rf "$kit"
  echo "wrote $KIT_FILE ($(du -h "$KIT_FILE" | cut -f1)); carry it to the GPU machine and run: bash bench/gpu-check.sh run" >&2
}

run() {
  local kit=/tmp/fedistill-gpu-kit log=${OUT:-/tmp}/gpu-check.log
  : >"$log"
  say() { echo "$*" | tee -a "$log" >&2; }
  [[ -f "$KIT_FILE" ]] || KIT_FILE=tmp/gpu-kit.tar.gz
  [[ -f "$KIT_FILE" ]] || { echo "no kit: run 'bench/gpu-check.sh pack' first and carry tmp/gpu-kit.tar.xz" >&2; exit 2; }
  rm -rf "$kit" && mkdir -p "$kit" && tar -xf "$KIT_FILE" -C "$kit"

  local loader=system
  if ! ldconfig -p 2>/dev/null | grep 'libvulkan\.so\.1' >/dev/null; then
    # Installs into / only where there is an NVIDIA GPU: never on a shared development machine.
    if command -v nvidia-smi >/dev/null; then
      # The device README's own .gl/ folder, where a session carried one, else the kit's copy.
      local gl="$kit/gl"
      if compgen -G ".gl/*.deb" >/dev/null; then gl=.gl; fi
      for f in "$gl"/*.deb; do dpkg -x "$f" /; done
      ldconfig
      loader=carried
    else
      loader="absent (no nvidia-smi here: loaders not unpacked)"
    fi
  fi
  local tools=/tmp/fedistill-vk-tools
  rm -rf "$tools" && mkdir -p "$tools"
  for f in "$kit"/tools/*.deb; do dpkg -x "$f" "$tools"; done
  local vkinfo=(env "LD_LIBRARY_PATH=$tools/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    "$tools/usr/bin/vulkaninfo")
  if [[ -z "${VK_DRIVER_FILES:-}" ]]; then
    for icd in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json \
      /etc/vulkan/icd.d/nvidia_icd.json; do
      if [[ -f "$icd" ]]; then export VK_DRIVER_FILES=$icd; break; fi
    done
  fi
  local egl=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
  if [[ -z "${__EGL_VENDOR_LIBRARY_FILENAMES:-}" && -f "$egl" ]]; then export __EGL_VENDOR_LIBRARY_FILENAMES=$egl; fi

  local ortbin="$kit/node_modules/onnxruntime-node/bin/napi-v6/linux/x64"
  if compgen -G "$kit/cuda/*.so" >/dev/null; then cp "$kit"/cuda/*.so "$ortbin/"; fi
  local node
  node=$(command -v node || echo "$kit/bin/node")
  export NODE_PATH="$kit/node_modules"

  say "== nvidia-smi"
  local gpu
  gpu=$(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>>"$log" | head -1 || true)
  say "${gpu:-none}"
  say "== vulkaninfo --summary (VK_DRIVER_FILES=${VK_DRIVER_FILES:-unset})"
  local vk
  vk=$(timeout 60 "${vkinfo[@]}" --summary 2>&1 | tee -a "$log" | grep -m1 'deviceName' | sed 's/.*= //' || true)
  [[ -n "$vk" ]] || VK_LOADER_DEBUG=error,warn timeout 60 "${vkinfo[@]}" --summary >>"$log" 2>&1 || true

  say "== provider probes"
  local probes
  probes=$("$node" -e '
    const e = require(process.argv[1] + "/dist/libs/engine/src/index.js");
    (async () => {
      const ref = await e.cpuReference(e.openOrtSession);
      const out = {};
      for (const p of ["cpu", "cuda", "webgpu"]) out[p] = await e.probeProvider(p, ref, { open: e.openOrtSession });
      process.stdout.write(JSON.stringify(out));
    })().catch((err) => { process.stdout.write(JSON.stringify({ error: String(err) })); });
  ' "$kit" 2>>"$log")
  say "$probes"

  say "== engine-gpu (steps ${STEPS:-200})"
  local rc=0 out=/tmp/fedistill-engine-gpu.out
  timeout "${BENCH_TIMEOUT:-420}" "$node" "$kit/dist/bench/engine-gpu.js" --providers webgpu,cuda \
    --steps "${STEPS:-200}" --threads 2 >"$out" 2>&1 || rc=$?
  cat "$out" >>"$log"
  local bench
  bench=$(grep '^{' "$out" | tail -1 || true)

  "$node" -e '
    const [gpu, vk, loader, icd, probes, bench, rc, modeset] = process.argv.slice(1);
    const parse = (s) => { try { return JSON.parse(s); } catch { return null; } };
    process.stdout.write(JSON.stringify({
      check: "fedistill gpu-check", gpu: gpu || null, vulkan_device: vk || null, vulkan_loader: loader,
      vk_driver_files: icd || null, dev_nvidia_modeset: modeset === "yes",
      probes: parse(probes), bench: parse(bench), bench_exit: Number(rc),
    }) + "\n");
  ' "$gpu" "$vk" "$loader" "${VK_DRIVER_FILES:-}" "$probes" "$bench" "$rc" \
    "$([[ -e /dev/nvidia-modeset ]] && echo yes || echo no)"
}

case "${1:-}" in
  pack) pack ;;
  run) run ;;
  *)
    echo "usage: bench/gpu-check.sh pack | run   (see the header of this file and docs/gpu.md)" >&2
    exit 2
    ;;
esac
