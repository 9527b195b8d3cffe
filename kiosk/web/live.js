// Live view: the server pushes each processed frame as one JPEG over a WebSocket, plus a small JSON
// status whenever it changes (gate state, the people it is about, language, sound, counts, notice).
// The kiosk screen (not the admin's view) also plays the PASS chime and the STOP prompt, once per person.
const canvas = element.querySelector("canvas.live-video");
const context = canvas.getContext("2d");
const banner = element.querySelector(".gate-banner");
const countsLine = element.querySelector(".gate-counts");
const noticeLine = element.querySelector(".privacy-notice");
const isKioskScreen = element.querySelector(".kiosk-screen") !== null;
const TEXTS = {
  en: {
    PASS: ["PASS", "Thank you — please go ahead"],
    STOP: ["STOP", "Please wear your mask over nose and mouth"],
    CHECKING: ["CHECKING", "Please hold still for a moment"],
    NO_FACE: ["WELCOME", "Masks required — please face the camera"],
    DISCONNECTED: ["CAMERA DISCONNECTED", "Reconnecting…"],
    counts: (c) => `Today: ${c.passed} passed · ${c.stopped} stopped` +
      (c.compliance === null ? "" : ` · ${Math.round(c.compliance * 100)}% masked`),
  },
  zh: {
    PASS: ["请通行", "谢谢配合"],
    STOP: ["请停步", "请正确佩戴口罩，遮住口鼻"],
    CHECKING: ["检测中", "请稍候，保持不动"],
    NO_FACE: ["欢迎", "须佩戴口罩，请面向摄像头"],
    DISCONNECTED: ["摄像头已断开", "正在重新连接…"],
    counts: (c) => `今日：通过 ${c.passed} · 拦截 ${c.stopped}` +
      (c.compliance === null ? "" : ` · 佩戴率 ${Math.round(c.compliance * 100)}%`),
  },
};
const played = new Set();  // "people|cue" already heard: at most once per person
window.kioskAudioLog = window.kioskAudioLog || [];
let language = "en";
let pending = null;
let drawing = false;

function showState(state) {
  element.dataset.state = state;
  if (state === "DISCONNECTED") {  // no frozen face on a public screen
    pending = null;
    context.fillStyle = "#000";
    context.fillRect(0, 0, canvas.width, canvas.height);
  }
  if (!banner) return;
  const [title, detail] = (TEXTS[language] || TEXTS.en)[state] || [state, ""];
  banner.className = "gate-banner state-" + state;
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
  const file = cue === "pass" ? "pass.wav" : `${cue}-${language}.wav`;
  const audio = new Audio("/sounds/" + file);
  audio.volume = status.sound.volume;
  for (const type of ["play", "playing", "ended", "error"]) {
    audio.addEventListener(type, () => window.kioskAudioLog.push({ file, type, people: status.people }));
  }
  audio.play().catch((error) => window.kioskAudioLog.push({ file, type: "blocked", error: String(error) }));
}

function showStatus(status) {
  language = status.lang || language;
  showState(status.state);
  const texts = TEXTS[language] || TEXTS.en;
  if (countsLine && status.counts) countsLine.textContent = texts.counts(status.counts);
  if (noticeLine) noticeLine.textContent = status.notice || "";
  playCue(status);
}

async function drawPending() {
  drawing = true;
  while (pending) {
    const blob = pending;
    pending = null;
    try {
      const bitmap = await createImageBitmap(blob);
      if (canvas.width !== bitmap.width || canvas.height !== bitmap.height) {
        canvas.width = bitmap.width;
        canvas.height = bitmap.height;
      }
      context.drawImage(bitmap, 0, 0);
      bitmap.close();
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
  socket.onmessage = (event) => {
    if (typeof event.data === "string") {
      showStatus(JSON.parse(event.data));
      return;
    }
    pending = event.data;  // only the newest frame is drawn
    if (!drawing) drawPending();
  };
  socket.onclose = () => {
    showState("DISCONNECTED");
    setTimeout(connect, 1000);
  };
}

showState("DISCONNECTED");
connect();
