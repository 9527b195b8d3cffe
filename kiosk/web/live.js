// Live view: the server pushes each processed frame as one JPEG over a WebSocket,
// plus a small JSON text message whenever the gate state or language changes.
const canvas = element.querySelector("canvas.live-video");
const context = canvas.getContext("2d");
const banner = element.querySelector(".gate-banner");
const TEXTS = {
  en: {
    PASS: ["PASS", "Thank you — please go ahead"],
    STOP: ["STOP", "Please wear your mask over nose and mouth"],
    CHECKING: ["CHECKING", "Please hold still for a moment"],
    NO_FACE: ["WELCOME", "Masks required — please face the camera"],
    DISCONNECTED: ["CAMERA DISCONNECTED", "Reconnecting…"],
  },
  zh: {
    PASS: ["请通行", "谢谢配合"],
    STOP: ["请停步", "请正确佩戴口罩，遮住口鼻"],
    CHECKING: ["检测中", "请稍候，保持不动"],
    NO_FACE: ["欢迎", "须佩戴口罩，请面向摄像头"],
    DISCONNECTED: ["摄像头已断开", "正在重新连接…"],
  },
};
let language = "en";
let gateState = "";
let pending = null;
let drawing = false;

function showState(state) {
  gateState = state;
  element.dataset.state = state;
  if (!banner) return;
  const [title, detail] = (TEXTS[language] || TEXTS.en)[state] || [state, ""];
  banner.className = "gate-banner state-" + state;
  banner.querySelector(".gate-title").textContent = title;
  banner.querySelector(".gate-detail").textContent = detail;
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
      const message = JSON.parse(event.data);
      language = message.lang || language;
      showState(message.state);
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
