// "Check a photo": the browser scales a large JPEG or PNG down to the analysis size before it is uploaded, so a
// 5 MP phone photo crosses the network as a few hundred kB instead of several MB. The kiosk analyses at that size
// anyway. Anything else passes unchanged, and the kiosk's own checks answer it: other formats, files over the byte
// limit, and images whose header declares more pixels than the limit (never decoded here: bombs exist). A photo
// whose bytes the kiosk has read before is not sent again: its cached answer is asked for by their SHA-256.
(() => {
  const settings = window.kioskPhotoUpload;  // {size, maxBytes, maxPixels, knownUrl}, set by the page's head
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

  // SHA-256 as hex, as the kiosk computes it of what it was sent; null on a page not served securely
  async function digestOf(blob) {
    if (!(window.crypto && crypto.subtle)) return null;
    const digest = await crypto.subtle.digest("SHA-256", await blob.arrayBuffer());
    return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
  }

  // {file: what to send, digest: its digest}
  async function scaledOnce(file) {
    if (file.size > settings.maxBytes) return {file, digest: null};
    const own = await digestOf(file);
    const key = own && own + ":" + file.type;
    if (key && remembered.has(key)) {
      const known = remembered.get(key);
      remembered.delete(key);
      remembered.set(key, known);  // the newest last: the oldest goes first
      const copy = new File([known.file], file.name, {type: known.file.type, lastModified: file.lastModified});
      return {file: copy, digest: known.digest};
    }
    const result = await scaled(file);
    if (result === file) return {file, digest: own};
    const chosen = {file: result, digest: await digestOf(result)};
    if (key) {
      remembered.set(key, chosen);
      if (remembered.size > MEMORY) remembered.delete(remembered.keys().next().value);
    }
    return chosen;
  }

  // a photo whose bytes the kiosk has answered before is asked for by their digest (the tab's hidden box and
  // button): no upload, no decode, no queue. False when the kiosk does not know them.
  async function answeredBefore({file, digest}) {
    const box = document.querySelector(".photo-known textarea, .photo-known input");
    const ask = document.querySelector(".photo-known-go");
    if (!digest || !box || !ask) return false;
    try {
      const response = await fetch(settings.knownUrl, {method: "POST", body: digest, credentials: "same-origin"});
      if (!response.ok || !(await response.json()).known) return false;
    } catch (error) {
      return false;
    }
    box.value = digest + " " + file.name;
    box.dispatchEvent(new Event("input", {bubbles: true}));
    await new Promise((resolve) => setTimeout(resolve, 0));  // after the page's own update of the box's value
    ask.click();
    return true;
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
    const chosen = [];
    for (const file of files) chosen.push(await scaledOnce(file));
    if (chosen.length === 1 && await answeredBefore(chosen[0])) {
      input.value = "";  // the same photo chosen again is a new choice (Gradio empties its box after an upload)
      return;
    }
    const transfer = new DataTransfer();
    for (const {file} of chosen) transfer.items.add(file);
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
