/**
 * WebGPU in Node through Dawn (the optional `webgpu` package). Not wired yet: the GPU issue adds the
 * navigator/globals set-up and the device limits. Until then it reports itself unavailable.
 */
export async function startWebgpu(): Promise<{ ok: true; detail: string } | { ok: false; why: string }> {
  return { ok: false, why: 'WebGPU support is not built yet (planned: the `webgpu` package via Dawn/Vulkan)' };
}
