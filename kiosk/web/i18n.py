"""The admin page in its own language (`admin.language`; by default the kiosk screen's first): the English text is
the key, ZH holds its Simplified Chinese. Every label, help text, card, table and message the admin page writes
goes through one Texts; values are filled in after the lookup, so a text with figures in it is one entry. A text
ZH lacks stays English (the zh test of every tab finds it). Gradio's own widget texts follow the browser's
language, so the zh page tells the browser it is Chinese (kiosk.web.page_language)."""
from __future__ import annotations

from kiosk.types import Text

LANGUAGES = ("en", "zh")


class Texts:
    """The admin page's texts in one language."""

    def __init__(self, language: str):
        if language not in LANGUAGES:
            raise ValueError(f"admin.language: one of {', '.join(LANGUAGES)}, not {language!r}")
        self.language = language

    def __call__(self, text: str, **values: object) -> str:
        """`text` in this language, with `values` filled in ({name} fields, as str.format); a value that is a
        Text is translated too."""
        if self.language == "zh":
            text = ZH.get(text, text)
        if not values:
            return text
        return text.format(**{name: self(value) if isinstance(value, Text) else value
                              for name, value in values.items()})

    def field(self, section: str, key: str, title: str, description: str) -> tuple[str, str]:
        """A setting's label and help: the schema's English, or its translation."""
        if self.language == "zh" and f"{section}.{key}" in ZH_FIELDS:
            return ZH_FIELDS[f"{section}.{key}"]
        return title, description


ENGLISH = Texts("en")

# a setting's label and help, by its key (the English is the schema's own title and description)
ZH_FIELDS: dict[str, tuple[str, str]] = {
    "detector.min_score": ("人脸检测阈值", "得分更低的不算人脸"),
    "decision.hold_ms": ("通过前须看到口罩（毫秒）", "口罩须连续看到这么久才判为通过"),
    "decision.switch_ms": ("状态保持（毫秒）", "新状态须保持这么久才显示"),
    "decision.min_face_fraction": ("最小人脸（占画面高度）", "小于画面高度这一比例的人脸不予理会"),
    "decision.max_people": ("同时人数（0：不限）", "区域内人脸多于此数时，屏幕请大家逐个通过（判定不变）"),
    "decision.hint_after_ms": ("提示延迟（毫秒）",
                               "提示（请走近、逐个通过、面向摄像头、请别动）在其原因持续这么久后显示"),
    "decision.zone": ("入口区域", "画面中的区域（在“入口区域”页上画出）；中心在区域外的人脸不予理会"),
    "camera.source": ("摄像头（编号、/dev/v4l/by-id/…、文件、网址）",
                      "设备编号、/dev/v4l/by-id/…、视频文件，或 rtsp/http 网址"),
    "camera.width": ("宽度", "请求的画面宽度"),
    "camera.height": ("高度", "请求的画面高度"),
    "camera.fps": ("帧率", "请求的每秒帧数"),
    "runtime.device": ("推理设备", "AUTO、CPU 或 GPU；设备不存在时改用 CPU"),
    "display.max_width": ("显示宽度", "发布的画面缩放到此尺寸以内，不放大"),
    "display.max_height": ("显示高度", "发布的画面缩放到此尺寸以内，不放大"),
    "display.jpeg_quality": ("JPEG 质量", "发布画面的压缩质量"),
    "display.language": ("自助机屏幕语言",
                         "英文、简体中文，或两者：自助机屏幕上先英文后中文（语音为英文；管理页面另有其语言设置）"),
    "display.notice": ("隐私提示", "在自助机屏幕上显示的一行字，例如谁保存记录、保存多久；留空：不显示"),
    "admin.language": ("管理页面语言", "英文或简体中文；留空：与自助机屏幕相同（两种语言时为英文）"),
    "gate.mode": ("闸机模式", "关闭：无输出；软：门从不锁住（输出保持放行），通过和拦下只发信号并记录；"
                              "硬：只有通过时的脉冲才放行"),
    "gate.pulse_ms": ("放行脉冲（毫秒）", "通过后输出保持放行的时长（硬模式）"),
    "gate.fail_state": ("自助机故障时", "硬模式下，摄像头断开、处理停滞或服务停止时：锁门则保持门锁住，开门则放行"
                                       "（消防安全）；恢复后自动回到正常"),
    "gate.serial_port": ("串口继电器端口", "LCUS/CH340 协议的 USB 继电器板（A0 01 01 A2 为开），如 /dev/ttyUSB0；"
                                           "留空：无"),
    "gate.serial_channel": ("串口继电器通道", "继电器板上的继电器编号"),
    "gate.gpio_chip": ("GPIO 芯片", "GPIO 字符设备，如 /dev/gpiochip0；留空：无 GPIO 输出"),
    "gate.gpio_line": ("GPIO 线", "芯片上的线号"),
    "gate.gpio_active_low": ("GPIO 低电平有效", "放行 = 低电平"),
    "gate.webhook_url": ("Webhook 网址", "每条闸机命令以 JSON 发送（POST）到此处；留空：无"),
    "mqtt.host": ("MQTT 服务器", "主机名或地址；留空：不用 MQTT"),
    "mqtt.port": ("MQTT 端口", "1883，启用 TLS 时为 8883"),
    "mqtt.username": ("MQTT 用户", "留空：不登录"),
    "mqtt.password": ("MQTT 密码", "发送给服务器，因此按原样保存（状态文件夹仅服务可读）；从不记入日志或显示"),
    "mqtt.tls": ("MQTT 使用 TLS", "用 tls_ca 或系统证书验证服务器"),
    "mqtt.topic_prefix": ("主题前缀", "主题为 <前缀>/<设备编号>/…"),
    "mqtt.device_id": ("设备编号", "本自助机在主题中的名字；共用服务器时每台一个"),
    "mqtt.snapshots": ("通过 MQTT 发送快照", "事件附带 JPEG 快照（base64）"),
    "mqtt.discovery": ("Home Assistant 自动发现", "在 homeassistant/ 下公布传感器"),
    "sound.enabled": ("声音", "播放通过提示音和拦下语音"),
    "sound.volume": ("音量", "0 到 1"),
    "tracker.confirm_frames": ("确认标签的帧数", "连续这么多帧一致后才显示人脸的标签"),
    "tracker.min_iou": ("同一人脸重叠度（IoU）", "与上一帧框重叠达到此值的人脸视为同一人"),
    "tracker.max_missed": ("人脸可丢失的帧数", "超过这么多帧未见的人脸结束其跟踪"),
    "record.enabled": ("记录事件", "记录每人的判定、摄像头断开和人工放行"),
    "record.retention_days": ("事件保留（天）", "更早的事件及其快照会被删除"),
    "record.snapshot_quota_mb": ("快照配额（MB）", "超出时先删除最旧的快照和视频"),
    "record.blur_faces": ("模糊人脸", "在快照中对人脸打马赛克（隐私）"),
}

ZH: dict[str, str] = {
    # the page and its tabs
    "log out": "退出登录",
    "Live": "实时",
    "Events": "事件",
    "Check a photo": "检查照片",
    "Settings": "设置",
    "Entry zone": "入口区域",
    "Password": "密码",
    "Device and models": "设备与模型",
    # the login form
    "mask-kiosk admin login": "mask-kiosk 管理登录",
    "mask-kiosk admin": "mask-kiosk 管理",
    "User": "用户",
    "Log in": "登录",
    "No admin password is set: run mask-kiosk set-password on the device.":
        "尚未设置管理密码：请在设备上运行 mask-kiosk set-password。",
    "Too many failed logins: try again in {wait:.0f} s.": "登录失败次数过多：请 {wait:.0f} 秒后再试。",
    "Wrong user or password.": "用户或密码错误。",
    # the Live tab's cards
    "loading the kiosk's state…": "正在读取自助机状态…",
    "gate": "闸机",
    "healthy": "正常",
    "passed today": "今日通过",
    "stopped today": "今日拦下",
    "people; {verdicts} PASS verdicts": "人；{verdicts} 次通过判定",
    "people; {verdicts} STOP verdicts": "人；{verdicts} 次拦下判定",
    "masked": "戴口罩比例",
    "passed / (passed + stopped)": "通过 /（通过 + 拦下）",
    "frames": "画面",
    "camera {camera:.1f} fps; detector {detector:.1f} fps; latency p50 {p50:.0f} ms, p95 {p95:.0f} ms":
        "摄像头 {camera:.1f} fps；检测器 {detector:.1f} fps；延迟 p50 {p50:.0f} ms，p95 {p95:.0f} ms",
    "kiosk screen": "自助机屏幕",
    "no kiosk screen connected": "未连接自助机屏幕",
    "stale": "停滞",
    "a screen stopped painting the frames sent to it": "有屏幕不再显示发给它的画面",
    "capture → painted, p95 {p95:.0f} ms": "拍摄 → 显示，p95 {p95:.0f} ms",
    "recording": "记录",
    "ok": "正常",
    "off": "关闭",
    "failed": "失败",
    "gate output": "闸机输出",
    "the gate mode in Settings": "见设置中的闸机模式",
    "no backend set": "未设置输出",
    "{backend}: {sent} sent, {failures} failed, {expired} too late":
        "{backend}：已发送 {sent}，失败 {failures}，超时 {expired}",
    "fail state ({fault}); ": "故障状态（{fault}）；",
    "released": "放行",
    "held": "锁住",
    "serial": "串口继电器",
    "gpio": "GPIO",
    "webhook": "Webhook",
    "MQTT": "MQTT",
    "the MQTT broker in Settings": "见设置中的 MQTT 服务器",
    "{broker}; {sent} events sent, {unsent} waiting": "{broker}；已发送事件 {sent}，待发送 {unsent}",
    "connected": "已连接",
    "not connected": "未连接",
    "Let one person pass": "放行一人",
    # gate states, outcomes and reasons as the page shows them
    "PASS": "通过",
    "STOP": "拦下",
    "CHECKING": "检查中",
    "NO_FACE": "无人",
    "DISCONNECTED": "摄像头断开",
    "OUT_OF_SERVICE": "停止服务",
    "camera lost": "摄像头断开",
    "camera back": "摄像头恢复",
    "staff override": "人工放行",
    "mask": "戴口罩",
    "no mask": "未戴口罩",
    "mask worn wrongly": "口罩戴法不对",
    "by {actor} ({via})": "由 {actor}（{via}）",
    # gate modes and fail states (the Settings tab's choices and the gate card)
    "soft": "软",
    "hard": "硬",
    "closed": "锁门",
    "open": "开门",
    "as the kiosk screen": "与自助机屏幕相同",
    # the override
    "Refused: not logged in.": "已拒绝：未登录。",
    "Refused: the last override was just now; again in {wait:.1f} s.": "已拒绝：刚刚放行过；请 {wait:.1f} 秒后再试。",
    "Refused: the kiosk is unhealthy ({reason}) and the gate fails closed.":
        "已拒绝：自助机故障（{reason}），故障时闸机锁门。",
    "Let one person pass: no gate output (gate mode off); {recorded}.":
        "已放行一人：无闸机输出（闸机模式关闭）；{recorded}。",
    "Let one person pass: the gate is released for {pulse_ms} ms; {recorded}.":
        "已放行一人：闸机放行 {pulse_ms} 毫秒；{recorded}。",
    "Let one person pass: the outputs are told (soft mode: the door is not held); {recorded}.":
        "已放行一人：已通知各输出（软模式：门不锁）；{recorded}。",
    "recorded": "已记录",
    "not recorded (record.enabled is off)": "未记录（记录事件已关闭）",
    # the Events tab
    "from": "从",
    "local time, 2026-12-03 14:30 or 2026-12-03": "本地时间，如 2026-12-03 14:30 或 2026-12-03",
    "to": "到",
    "empty: now": "留空：到现在",
    "outcome": "结果",
    "reason": "原因",
    "rows per page": "每页行数",
    "all": "全部",
    "override": "人工放行",
    "camera": "摄像头",
    "any": "任意",
    "Show": "显示",
    "◀ newer": "◀ 较新",
    "older ▶": "较早 ▶",
    "page {page} of {pages}": "第 {page} 页，共 {pages} 页",
    "passed (PASS)": "通过",
    "stopped (STOP)": "拦下",
    "share of the people of each hour": "每小时人数中的占比",
    "people passed and stopped, share per hour": "每小时通过与拦下人数的占比",
    "share of people (%)": "人数占比（%）",
    "hour": "小时",
    "[Download these {total} events as CSV, with links]": "[下载这 {total} 条事件（CSV，含链接）]",
    "**The record cannot be read:** {error} (recording: {recording})": "**无法读取记录：**{error}（记录：{recording}）",
    "Events {first}–{last} of {total}, newest first": "事件 {first}–{last}，共 {total} 条，最新在前",
    "No events in this range.": "此范围内没有事件。",
    "picture": "图片",
    "time": "时间",
    "people": "人数",
    "time to verdict": "判定用时",
    "▶ clip": "▶ 视频",
    "faces in the picture": "画面中的人脸",
    "before": "之前",
    "event": "事件",
    "event {id}": "事件 {id}",
    "No picture: the quota or the retention removed it, or none is kept for this kind of event.":
        "没有图片：已因配额或保留期限删除，或这类事件不保存图片。",
    # the Check a photo tab
    "Upload a photo: faces are boxed green (mask), red (no mask) or amber (worn wrongly).":
        "上传照片：人脸以绿框（戴口罩）、红框（未戴口罩）或黄框（戴法不对）标出。",
    "photo": "照片",
    "result": "结果",
    "faces": "人脸",
    "Choose a photo first.": "请先选择照片。",
    "**Error:** {name}: {error}": "**错误：**{name}：{error}",
    "Looking for faces in {name} ({width}x{height})…": "正在 {name}（{width}x{height}）中查找人脸…",
    "{name}: {summary}. {source} at {width}x{height} in {took:.0f} ms":
        "{name}：{summary}。{source}，{width}x{height}，用时 {took:.0f} ms",
    "served from cache": "取自缓存",
    "no longer known; choose it again": "已不在缓存中，请重新选择",
    "no face found": "未找到人脸",
    "{count} face": "{count} 张人脸",
    "{count} faces": "{count} 张人脸",
    "{faces}: {counts}": "{faces}：{counts}",
    "not judged": "未判定",
    "analysed": "已分析",
    # the Settings tab
    "Decision": "判定",
    "Camera and device": "摄像头与设备",
    "Screen": "屏幕",
    "Gate output": "闸机输出",
    "Sound and privacy": "声音与隐私",
    "Tracking": "跟踪",
    "Record": "记录",
    " ({low:g} to {high:g})": "（{low:g} 到 {high:g}）",
    " (left empty: unchanged)": "（留空：不变）",
    " (applies after a restart)": "（重启后生效）",
    "Save settings": "保存设置",
    "[Export these settings](/admin/settings.toml) (a TOML file, without passwords)":
        "[导出这些设置](/admin/settings.toml)（TOML 文件，不含密码）",
    "Import settings (a file exported here)": "导入设置（在此导出的文件）",
    "The camera is `{source}` (started with `--source`) until you change the camera source here.":
        "在此更改摄像头之前，摄像头为 `{source}`（启动时用 `--source` 指定）。",
    "**Saved settings were set aside:** {problem}": "**已保存的设置未被采用：**{problem}",
    "Not saved: {error}": "未保存：{error}",
    "Not imported, nothing changed: {error}": "未导入，没有任何更改：{error}",
    "Import: {message}": "导入：{message}",
    "No changes.": "没有更改。",
    "Saved: {fields}.": "已保存：{fields}。",
    " {fields} applies after a restart.": "{fields}重启后生效。",
    ", ": "、",
    " Kept this kiosk's own {fields}.": "保留了本机自己的{fields}。",
    # the Entry zone tab
    "Faces outside the entry zone are ignored. Click two opposite corners on the picture, then save. The picture is "
    "a still of the camera; *New still* takes another.":
        "入口区域外的人脸不予理会。在画面上点击两个对角，然后保存。画面是摄像头的静止截图；*新截图* 重新截取。",
    "New still": "新截图",
    "Whole picture": "整个画面",
    "Save zone": "保存区域",
    "entry zone": "入口区域",
    "Saved zone: {zone}": "已保存的区域：{zone}",
    "No picture yet: the camera delivers no frames.": "还没有画面：摄像头没有送来画面。",
    "Now click the opposite corner.": "现在点击对角。",
    "Too small: click two corners further apart.": "太小：请点击相距更远的两个角。",
    "New zone {zone}: not saved yet.": "新区域 {zone}：尚未保存。",
    "Whole picture: not saved yet.": "整个画面：尚未保存。",
    "{x1:.0%}–{x2:.0%} across, {y1:.0%}–{y2:.0%} down": "横向 {x1:.0%}–{x2:.0%}，纵向 {y1:.0%}–{y2:.0%}",
    # the Password tab
    "Change the admin password. It is in force at once; the old one stops working.":
        "更改管理密码。新密码立即生效，旧密码随即失效。",
    "current password": "当前密码",
    "new password (at least 8 characters)": "新密码（至少 8 个字符）",
    "new password again": "再次输入新密码",
    "Change password": "更改密码",
    "### Viewer account\nThe user `{viewer}` sees the live view, the events and the counts, and changes nothing. Set "
    "its password here (or with `mask-kiosk set-password --viewer`); both fields empty removes the viewer login. "
    "Its sessions end either way.":
        "### 查看账号\n用户 `{viewer}` 可以查看实时画面、事件和计数，不能更改任何内容。在此设置其密码（或在设备上"
        "运行 `mask-kiosk set-password --viewer`）；两栏都留空则删除查看账号。无论哪种，其现有会话都会结束。",
    "viewer password (at least 8 characters)": "查看账号密码（至少 8 个字符）",
    "viewer password again": "再次输入查看账号密码",
    "Set viewer password": "设置查看账号密码",
    "Not changed: too many failed attempts; try again in {wait:.0f} s.":
        "未更改：失败次数过多；请 {wait:.0f} 秒后再试。",
    "Not changed: the current password is wrong.": "未更改：当前密码错误。",
    "Not changed: the two new passwords differ.": "未更改：两次输入的新密码不同。",
    "Not changed: {problem}.": "未更改：{problem}。",
    "Password changed. It is in force now; the old one no longer works, and other sessions have ended.":
        "密码已更改，立即生效；旧密码已失效，其他会话已结束。",
    "Not changed: only the admin may set the viewer's password.": "未更改：只有管理员可以设置查看账号的密码。",
    "The viewer login is removed; viewer sessions have ended.": "查看账号已删除；其会话已结束。",
    "Viewer password set: log in as \"{viewer}\" to see the live view, the events and the counts. Earlier viewer "
    "sessions have ended.": "查看账号密码已设置：以“{viewer}”登录即可查看实时画面、事件和计数。之前的查看会话已结束。",
    # the Device and models tab
    "{what}: {value}": "{what}：{value}",
    "runtime": "运行库",
    "devices available": "可用设备",
    "device": "设备",
    "hint": "性能提示",
    "model cache": "模型缓存",
    "detector source": "检测器来源",
    "face detector, live": "人脸检测器（实时）",
    "live threshold": "实时阈值",
    "face detector, photos": "人脸检测器（照片）",
    "border": "边框",
    "photo threshold": "照片阈值",
    "mask classifier": "口罩分类器",
    "input": "输入",
    "margin": "边距",
    "max batch": "最大批量",
}
