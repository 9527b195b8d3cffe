// Live view: the server pushes each processed frame as one JPEG (boxes drawn) preceded by its faces as JSON
// (boxes as fractions, labels), plus a JSON status whenever it changes (gate state, the people it is about,
// language, sound, counts, notice). Labels are written here, in the screen's language and script; the public
// screen shows no confidence figures, the admin's view does. The kiosk screen also plays the PASS chime and the
// STOP prompt, once per person.
const canvas = element.querySelector("canvas.live-video");
const context = canvas.getContext("2d");
const banner = element.querySelector(".gate-banner");
const countsLine = element.querySelector(".gate-counts");
const noticeLine = element.querySelector(".privacy-notice");
const isKioskScreen = element.querySelector(".kiosk-screen") !== null;
const TEXTS = {
  en: {
    PASS: ["PASS", "Thank you — please go ahead"],
    STOP: ["STOP", "Please wear a mask"],
    "STOP-no_mask": ["STOP", "Please wear a mask"],
    "STOP-incorrect": ["STOP", "Please wear your mask over nose and mouth"],
    CHECKING: ["CHECKING", "Please hold still for a moment"],
    NO_FACE: ["WELCOME", "Masks required — please face the camera"],
    CONNECTING: ["WELCOME", "Connecting…"],
    DISCONNECTED: ["CAMERA DISCONNECTED", "Reconnecting…"],
    "DISCONNECTED-screen": ["PLEASE SEE STAFF", "This checkpoint cannot check masks right now"],
    OUT_OF_SERVICE: ["OUT OF SERVICE", "Please see staff"],
    OFFLINE: ["KIOSK OFFLINE", "The kiosk service is not reachable — reconnecting…"],
    labels: { mask: "mask", no_mask: "no mask", incorrect: "mask worn wrongly" },
    // what the person can do to be judged (kiosk/live/guidance.py), in place of the CHECKING or WELCOME line
    hints: { step_closer: "Please step closer", one_at_a_time: "One person at a time, please",
             face_camera: "Please face the camera", hold_still: "Please hold still" },
    // STOP with several people in the zone: who of them, and what to do
    who: { no_mask: (n, total) => `${n} of ${total} without a mask — please wear a mask`,
           incorrect: (n, total) => `${n} of ${total}: mask below the nose — please cover nose and mouth` },
    counts: (c) => `Today: ${c.passed} passed · ${c.stopped} stopped` +
      (c.compliance === null ? "" : ` · ${Math.round(c.compliance * 100)}% masked`),
  },
  zh: {
    PASS: ["请通行", "谢谢配合"],
    STOP: ["请停步", "请佩戴口罩"],
    "STOP-no_mask": ["请停步", "请佩戴口罩"],
    "STOP-incorrect": ["请停步", "请正确佩戴口罩，遮住口鼻"],
    CHECKING: ["检测中", "请稍候，保持不动"],
    NO_FACE: ["欢迎", "须佩戴口罩，请面向摄像头"],
    CONNECTING: ["欢迎", "正在连接…"],
    DISCONNECTED: ["摄像头已断开", "正在重新连接…"],
    "DISCONNECTED-screen": ["请联系工作人员", "本检测点暂时无法检测口罩"],
    OUT_OF_SERVICE: ["暂停服务", "请联系工作人员"],
    OFFLINE: ["服务未连接", "检测服务无法访问，正在重新连接…"],
    labels: { mask: "已戴口罩", no_mask: "未戴口罩", incorrect: "口罩未戴好" },
    hints: { step_closer: "请走近一些", one_at_a_time: "请逐一通过", face_camera: "请正对摄像头", hold_still: "请保持不动" },
    who: { no_mask: (n, total) => `${total}人中${n}人未戴口罩，请佩戴口罩`,
           incorrect: (n, total) => `${total}人中${n}人口罩未遮住鼻子，请遮住口鼻` },
    counts: (c) => `今日：通过 ${c.passed} · 拦截 ${c.stopped}` +
      (c.compliance === null ? "" : ` · 佩戴率 ${Math.round(c.compliance * 100)}%`),
  },
};
// "en+zh": both languages at once, the first above the second (one title, each line twice); sound in the first
function textsOf(name) {
  const parts = name.split("+").map((part) => TEXTS[part]).filter(Boolean);
  if (parts.length < 2) return parts[0] || TEXTS.en;
  const [a, b] = parts;
  const both = { counts: a.counts, labels: {}, hints: {}, who: {} };
  for (const key of Object.keys(a)) {
    if (Array.isArray(a[key])) both[key] = [`${a[key][0]} · ${b[key][0]}`, `${a[key][1]}\n${b[key][1]}`];
  }
  for (const key of Object.keys(a.labels)) both.labels[key] = `${a.labels[key]} ${b.labels[key]}`;
  for (const key of Object.keys(a.hints)) both.hints[key] = `${a.hints[key]}\n${b.hints[key]}`;
  for (const key of Object.keys(a.who)) both.who[key] = (n, total) => `${a.who[key](n, total)}\n${b.who[key](n, total)}`;
  return both;
}
const textsCache = {};
const texts = () => (textsCache[language] = textsCache[language] || textsOf(language));
// as the boxes in the picture (kiosk/live/render.py LABEL_COLOURS)
const LABEL_COLOURS = { mask: "#28b43c", no_mask: "#dc2828", incorrect: "#ffaa00" };
const GATE_STATES = new Set(["NO_FACE", "CHECKING", "PASS", "STOP"]);
const played = new Set();  // "people|cue" already heard: at most once per person
window.kioskAudioLog = window.kioskAudioLog || [];
window.kioskLabels = window.kioskLabels || [];  // each drawn frame's state and labels (tests read it)
let language = window.kioskLanguage || "en";  // set by the page's head until the first status says
let pending = null;       // [faces message, JPEG blob, arrival]: only the newest frame is drawn
let arrivals = 0;         // frames received so far
let blankedAt = 0;        // arrivals when a state without frames blanked the picture: older frames stay unshown
let nextFaces = { faces: [] };
let drawing = false;
// the kiosk screen reports each frame it paints, in the server's clock (kiosk/web/screen_watch.py): the offset
// comes from the ping whose answer took the shortest round trip
let liveSocket = null;
let clockOffsetMs = null;
let bestRoundTripMs = Infinity;

function ping() {
  if (liveSocket && liveSocket.readyState === WebSocket.OPEN) liveSocket.send(JSON.stringify({ ping: performance.now() }));
}

function onPong(message) {
  const now = performance.now();
  const roundTrip = now - message.pong;
  if (roundTrip > bestRoundTripMs) return;
  bestRoundTripMs = roundTrip;
  clockOffsetMs = message.server * 1000 - (message.pong + now) / 2;
}

function reportPainted(frame) {
  if (!isKioskScreen || frame === undefined) return;
  requestAnimationFrame(() => {  // the frame is on its way to the glass
    if (clockOffsetMs === null || !liveSocket || liveSocket.readyState !== WebSocket.OPEN) return;
    liveSocket.send(JSON.stringify({ painted: frame, at: (performance.now() + clockOffsetMs) / 1000 }));
  });
}

function writeLabels(message) {
  const faces = message.faces;
  const labels = texts().labels;
  const size = Math.max(16, Math.round(canvas.height * 0.05));
  context.font = `700 ${size}px system-ui, "Noto Sans CJK SC", "DejaVu Sans", sans-serif`;
  context.textBaseline = "top";
  const written = [];
  let inside = true;  // every label within the picture
  for (const face of faces) {
    if (!face.label) continue;  // not judged (yet, or outside the zone): the grey box says so
    let text = labels[face.label] || face.label;
    if (!isKioskScreen && face.score !== null) text += ` ${Math.round(face.score * 100)}%`;
    const width = context.measureText(text).width + size * 0.5;
    const x = Math.max(0, Math.min(face.box[0] * canvas.width, canvas.width - width));  // never cut at the edge
    const top = Math.max(0, face.box[1] * canvas.height - size * 1.3);
    context.fillStyle = LABEL_COLOURS[face.label] || "#a0a0a0";
    context.fillRect(x, top, width, size * 1.3);
    context.fillStyle = face.label === "incorrect" ? "#111" : "#fff";
    context.fillText(text, x + size * 0.25, top + size * 0.15);
    written.push(text);
    inside = inside && x >= 0 && x + width <= canvas.width + 0.5;
  }
  window.kioskLabels.push({ frame: message.frame, state: message.state, reason: message.reason, hint: message.hint,
                            labels: written, faces: faces.length, inside });
  if (window.kioskLabels.length > 2000) window.kioskLabels.shift();
}

// the banner's [title, detail]: STOP says what to do about its reason; a camera that is down tells the visitor to
// see staff on the public screen, while the admin's view names it
function bannerText(state, reason, who, hint) {
  const shown = texts();
  if ((state === "CHECKING" || state === "NO_FACE") && hint && shown.hints[hint]) return [shown[state][0], shown.hints[hint]];
  if (state === "STOP" && who && who.total > 1 && who.n > 0 && shown.who[reason]) {
    return [shown.STOP[0], shown.who[reason](who.n, who.total)];
  }
  if (state === "STOP" && reason && shown["STOP-" + reason]) return shown["STOP-" + reason];
  if (state === "DISCONNECTED" && isKioskScreen) return shown["DISCONNECTED-screen"];
  return shown[state] || [state, ""];
}

function showState(state, reason, who, hint) {
  element.dataset.state = state;
  element.dataset.reason = reason || "";
  element.dataset.hint = hint || "";
  if (state === "DISCONNECTED" || state === "OFFLINE" || state === "OUT_OF_SERVICE") {  // no frozen face
    pending = null;
    blankedAt = arrivals;  // a frame still being decoded must not bring back its face and its verdict
    context.fillStyle = "#000";
    context.fillRect(0, 0, canvas.width, canvas.height);
  }
  if (!banner) return;
  const [title, detail] = bannerText(state, reason, who, hint);
  banner.className = "gate-banner state-" + state + (language.includes("+") ? " two-languages" : "");
  banner.querySelector(".gate-title").textContent = title;
  banner.querySelector(".gate-detail").textContent = detail;
}

function playCue(status) {
  const cue = status.state === "PASS" ? "pass" : status.state === "STOP" && status.reason ? "stop-" + status.reason : null;
  if (!isKioskScreen || !cue || !status.people.length || !status.sound.on) return;
  const key = status.people.join(",") + "|" + cue;
  if (played.has(key)) return;
  played.add(key);
  if (played.size > 500) played.delete(played.values().next().value);
  const file = cue === "pass" ? "pass.wav" : `${cue}-${language.split("+")[0]}.wav`;
  const audio = new Audio("/sounds/" + file);
  audio.volume = status.sound.volume;
  for (const type of ["play", "playing", "ended", "error"]) {
    audio.addEventListener(type, () => window.kioskAudioLog.push({ file, type, people: status.people }));
  }
  audio.play().catch((error) => window.kioskAudioLog.push({ file, type: "blocked", error: String(error) }));
}

function showStatus(status) {
  language = window.kioskAdminLanguage || status.lang || language;  // the admin page keeps its own
  // a gate state is shown with the frame it belongs to (drawPending), so banner and boxes always agree; the
  // status shows the states without frames, and the first state after them
  if (!GATE_STATES.has(status.state) || !GATE_STATES.has(element.dataset.state)) showState(status.state, status.reason);
  if (countsLine && status.counts) countsLine.textContent = texts().counts(status.counts);
  if (noticeLine) noticeLine.textContent = status.notice || "";
  playCue(status);
}

async function drawPending() {
  drawing = true;
  while (pending) {
    const [faces, blob, arrival] = pending;
    pending = null;
    try {
      const bitmap = await createImageBitmap(blob);
      if (arrival <= blankedAt) {
        bitmap.close();
        continue;
      }
      if (canvas.width !== bitmap.width || canvas.height !== bitmap.height) {
        canvas.width = bitmap.width;
        canvas.height = bitmap.height;
      }
      context.drawImage(bitmap, 0, 0);
      bitmap.close();
      writeLabels(faces);
      reportPainted(faces.frame);
      if (faces.state) {
        const inZone = faces.faces.filter((face) => face.zone);  // the people the verdict is about
        const who = { total: inZone.length, n: inZone.filter((face) => face.label === faces.reason).length };
        showState(faces.state, faces.reason, who, faces.hint);
      }
      window.dispatchEvent(new CustomEvent("kiosk-frame", { detail: { canvas } }));
    } catch (error) {
      console.warn("frame skipped", error);
    }
  }
  drawing = false;
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss://" : "ws://";
  const socket = new WebSocket(scheme + location.host + "/ws/live");
  socket.binaryType = "blob";
  liveSocket = socket;
  bestRoundTripMs = Infinity;  // a new connection: a new path, a new offset
  if (isKioskScreen) socket.onopen = () => { for (const delay of [0, 300, 1000]) setTimeout(ping, delay); };
  socket.onmessage = (event) => {
    if (typeof event.data === "string") {
      const message = JSON.parse(event.data);
      if (message.pong !== undefined) onPong(message);
      else if (message.faces) nextFaces = message;  // the faces of the JPEG that follows
      else showStatus(message);
      return;
    }
    pending = [nextFaces, event.data, ++arrivals];
    if (!drawing) drawPending();
  };
  socket.onclose = () => {  // the service itself is gone (not the camera): say so, keep trying
    showState("OFFLINE");
    setTimeout(connect, 1000);
  };
}

if (isKioskScreen) setInterval(ping, 10000);  // clocks drift: a shorter round trip may come along
document.body.classList.add("kiosk-ready");  // the boot screen (kiosk/web/pages.py kiosk_head) gives way
showState("CONNECTING");
connect();
