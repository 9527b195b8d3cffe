// "Check a photo": the browser scales a large JPEG or PNG down to the analysis size before it is uploaded, so a
// 5 MP phone photo crosses the network as a few hundred kB instead of several MB. The kiosk analyses at that size
// anyway. Anything else passes unchanged, and the kiosk's own checks answer it: other formats, files over the byte
// limit, and images whose header declares more pixels than the limit (never decoded here: bombs exist).
(() => {
  const settings = window.kioskPhotoUpload;  // {size, maxBytes, maxPixels}, set by the page's head
  const ZONE = ".photo-upload";
  const redispatching = new WeakSet();

  // (width, height) from a JPEG's SOF or a PNG's IHDR, or null
  function headerSize(bytes) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (bytes.length > 24 && view.getUint32(0) === 0x89504e47) return [view.getUint32(16), view.getUint32(20)];
    if (bytes.length < 4 || view.getUint16(0) !== 0xffd8) return null;
    let at = 2;
    while (at + 9 < bytes.length) {
      if (bytes[at] !== 0xff) return null;
      const marker = bytes[at + 1];
      if (marker === 0xff) { at += 1; continue; }
      const length = view.getUint16(at + 2);
      const isFrame = marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker);
      if (isFrame) return [view.getUint16(at + 7), view.getUint16(at + 5)];
      at += 2 + length;
    }
    return null;
  }

  // the scaled files of the last photos chosen, by a hash of their bytes: a photo checked again is not decoded
  // and encoded again (a tenth of a second for a 5 MP photo), and its upload is the same bytes, so the same answer
  const MEMORY = 8;
  const remembered = new Map();

  async function fingerprint(file) {
    if (!(window.crypto && crypto.subtle)) return null;  // a page not served securely: no memory, only scaling
    const digest = await crypto.subtle.digest("SHA-256", await file.arrayBuffer());
    return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, "0")).join("") + ":" + file.type;
  }

  async function scaledOnce(file) {
    if (file.size > settings.maxBytes) return file;
    const key = await fingerprint(file);
    if (key && remembered.has(key)) {
      const known = remembered.get(key);
      remembered.delete(key);
      remembered.set(key, known);  // the newest last: the oldest goes first
      return new File([known], file.name, {type: known.type, lastModified: file.lastModified});
    }
    const result = await scaled(file);
    if (key && result !== file) {
      remembered.set(key, result);
      if (remembered.size > MEMORY) remembered.delete(remembered.keys().next().value);
    }
    return result;
  }

  // the file scaled to the analysis size, or the file itself when it needs no scaling or may not be decoded
  async function scaled(file) {
    if (file.size > settings.maxBytes || !/^image\/(jpeg|png)$/.test(file.type)) return file;
    const size = headerSize(new Uint8Array(await file.slice(0, 256 * 1024).arrayBuffer()));
    if (!size || size[0] * size[1] > settings.maxPixels || Math.max(...size) <= settings.size) return file;
    try {
      const bitmap = await createImageBitmap(file, {imageOrientation: "from-image"});
      const scale = settings.size / Math.max(bitmap.width, bitmap.height);
      if (scale >= 1) return file;
      const canvas = new OffscreenCanvas(Math.round(bitmap.width * scale), Math.round(bitmap.height * scale));
      const context = canvas.getContext("2d");
      context.imageSmoothingQuality = "high";
      context.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      bitmap.close();
      const blob = await canvas.convertToBlob({type: "image/jpeg", quality: 0.92});
      return new File([blob], file.name, {type: "image/jpeg", lastModified: file.lastModified});
    } catch (error) {
      return file;  // not decodable here: the kiosk says why
    }
  }

  async function handOver(input, files) {
    const transfer = new DataTransfer();
    for (const file of files) transfer.items.add(await scaledOnce(file));
    input.files = transfer.files;
    redispatching.add(input);
    input.dispatchEvent(new Event("change", {bubbles: true}));
    redispatching.delete(input);
  }

  // capture phase on window: before Gradio's own handlers, which then see the scaled file
  window.addEventListener("change", (event) => {
    const input = event.target;
    if (!(input instanceof HTMLInputElement) || input.type !== "file" || !input.closest(ZONE)) return;
    if (redispatching.has(input) || !input.files || !input.files.length) return;
    event.stopImmediatePropagation();
    handOver(input, [...input.files]);
  }, true);

  window.addEventListener("drop", (event) => {
    const zone = event.target instanceof Element && event.target.closest(ZONE);
    const input = zone && zone.querySelector("input[type=file]");
    if (!input || !event.dataTransfer || !event.dataTransfer.files.length) return;
    event.preventDefault();
    event.stopImmediatePropagation();
    handOver(input, [...event.dataTransfer.files]);
  }, true);
})();
