// All user-visible strings, Simplified Chinese first, English second.
// Keys are stable; {name} placeholders are filled by t().

const table = {
  zh: {
    'app.title': '锐眼视频监控平台',
    'app.brand': '锐眼',
    'app.product': '视频监控平台',
    'lang.switch': 'English',
    'nav.live': '实时预览',
    'nav.playback': '录像回放',
    'header.logout': '退出',
    'header.user': '当前用户',

    'login.title': '登录',
    'login.subtitle': 'GB/T 28181 视频监控平台',
    'login.username': '用户名',
    'login.password': '密码',
    'login.submit': '登录',
    'login.busy': '正在登录…',
    'login.required': '请输入用户名和密码',
    'login.wrong': '用户名或密码错误',
    'login.tooMany': '该地址登录失败次数过多，请于 {time} 后重试',
    'login.tooManyNoTime': '该地址登录失败次数过多，请稍后重试',
    'login.down': '无法连接服务器，请检查网络或稍后重试',
    'login.expired': '会话已过期，请重新登录',

    'pw.title': '修改密码',
    'pw.hint': '首次登录或密码已重置，必须修改密码后才能继续使用。',
    'pw.old': '当前密码',
    'pw.new': '新密码',
    'pw.repeat': '确认新密码',
    'pw.submit': '修改密码',
    'pw.rules': '至少 8 个字符，且不能与用户名相同。',
    'pw.tooShort': '新密码至少需要 8 个字符',
    'pw.isUsername': '新密码不能与用户名相同',
    'pw.mismatch': '两次输入的新密码不一致',
    'pw.sameAsOld': '新密码不能与当前密码相同',
    'pw.done': '密码已修改',
    'pw.wrongOld': '当前密码错误',
    'pw.locked': '当前密码错误次数过多，密码修改已锁定，请于 {time} 后重试',
    'pw.lockedNoTime': '当前密码错误次数过多，密码修改已锁定，请稍后重试',
    'pw.tooMany': '该地址密码验证失败次数过多，请于 {time} 后重试',
    'pw.tooManyNoTime': '该地址密码验证失败次数过多，请稍后重试',

    'tree.byDevice': '按设备',
    'tree.byRegion': '按区域',
    'tree.search': '搜索名称或编号',
    'tree.empty': '没有设备',
    'tree.noMatch': '没有匹配的结果',
    'tree.loading': '加载中…',
    'tree.loadFailed': '设备树加载失败：{error}',
    'tree.online': '在线',
    'tree.offline': '离线',
    'tree.addDevice': '将该设备的全部通道加入轮巡',
    'tree.refresh': '刷新',

    'wall.layout': '画面',
    'wall.fullscreen': '全屏',
    'wall.fullscreenWall': '视频墙全屏',
    'wall.closeAll': '全部关闭',
    'wall.dropHint': '拖入通道或双击设备树中的通道',
    'pane.idle': '空闲',
    'pane.connecting': '连接中',
    'pane.playing': '播放中',
    'pane.retry': '重试',
    'pane.close': '关闭',
    'pane.ptz': '云台控制',
    'pane.fullscreen': '全屏',
    'pane.noFrames': '未收到视频画面',
    'pane.stalled': '视频流中断',
    'pane.connectionLost': '连接已断开',
    'pane.hlsError': 'HLS 播放失败',
    'pane.webrtcUnsupported': '浏览器不支持 WebRTC',

    'ptz.title': '云台',
    'ptz.up': '上', 'ptz.down': '下', 'ptz.left': '左', 'ptz.right': '右',
    'ptz.upLeft': '左上', 'ptz.upRight': '右上', 'ptz.downLeft': '左下', 'ptz.downRight': '右下',
    'ptz.zoomIn': '放大', 'ptz.zoomOut': '缩小',
    'ptz.speed': '速度',
    'ptz.failed': '云台控制失败：{error}',

    'tour.title': '轮巡',
    'tour.select': '选择通道',
    'tour.selectDone': '完成选择',
    'tour.selected': '已选 {n} 个通道',
    'tour.interval': '间隔（秒）',
    'tour.start': '开始轮巡',
    'tour.stop': '停止轮巡',
    'tour.clear': '清空',
    'tour.running': '轮巡中：第 {page}/{pages} 页',
    'tour.needChannels': '请先在设备树中勾选通道',
    'tour.badInterval': '间隔需为 5–3600 秒',

    'status.devices': '设备',
    'status.channels': '通道',
    'status.online': '在线',
    'status.events': '实时状态',
    'status.eventsOk': '已连接',
    'status.eventsDown': '重连中',

    'pb.channel': '通道',
    'pb.pickChannel': '在左侧设备树中双击选择通道',
    'pb.day': '日期',
    'pb.query': '查询',
    'pb.querying': '查询中…',
    'pb.noRecords': '当天没有录像',
    'pb.records': '{n} 段录像',
    'pb.pause': '暂停',
    'pb.resume': '继续',
    'pb.stop': '停止',
    'pb.speed': '倍速',
    'pb.clickTimeline': '点击时间轴上的录像段开始回放',
    'pb.notRecorded': '该时间没有录像',
    'pb.download': '下载',
    'pb.downloadRange': '下载时段',
    'pb.from': '从',
    'pb.to': '到',
    'pb.downloadStart': '开始下载',
    'pb.downloadSpeed': '下载倍速',
    'pb.downloading': '下载中 {pct}%',
    'pb.downloadDone': '下载完成',
    'pb.downloadFailed': '下载失败：{error}',
    'pb.downloadLink': '保存文件',
    'pb.badRange': '请选择有效的时间段（结束时间晚于开始时间）',
    'pb.state': '状态',
    'pb.ended': '回放结束',

    'err.network': '无法连接服务器',
    'err.forbidden': '没有权限',
    'err.unknown': '请求失败（{status}）',
    'err.audit': '审计日志无法写入，访问已被拒绝，请联系管理员',
    'err.shuttingDown': '服务正在停止，请稍后重试',
    'common.close': '关闭',
  },
  en: {
    'app.title': 'SharpEyes Video Surveillance',
    'app.brand': 'SharpEyes',
    'app.product': 'Video Surveillance',
    'lang.switch': '中文',
    'nav.live': 'Live view',
    'nav.playback': 'Playback',
    'header.logout': 'Log out',
    'header.user': 'Signed in as',

    'login.title': 'Sign in',
    'login.subtitle': 'GB/T 28181 video surveillance platform',
    'login.username': 'Username',
    'login.password': 'Password',
    'login.submit': 'Sign in',
    'login.busy': 'Signing in…',
    'login.required': 'Enter your username and password',
    'login.wrong': 'Wrong username or password',
    'login.tooMany': 'Too many failed sign-ins from this address; try again after {time}',
    'login.tooManyNoTime': 'Too many failed sign-ins from this address; try again later',
    'login.down': 'Cannot reach the server; check the network or try again later',
    'login.expired': 'Your session expired; please sign in again',

    'pw.title': 'Change password',
    'pw.hint': 'You must change your password before you can continue.',
    'pw.old': 'Current password',
    'pw.new': 'New password',
    'pw.repeat': 'Repeat new password',
    'pw.submit': 'Change password',
    'pw.rules': 'At least 8 characters, and not the username.',
    'pw.tooShort': 'The new password needs at least 8 characters',
    'pw.isUsername': 'The new password must not be the username',
    'pw.mismatch': 'The two new passwords differ',
    'pw.sameAsOld': 'The new password must differ from the current one',
    'pw.done': 'Password changed',
    'pw.wrongOld': 'The current password is wrong',
    'pw.locked': 'Too many wrong current passwords; password changes are locked until {time}',
    'pw.lockedNoTime': 'Too many wrong current passwords; password changes are locked for now',
    'pw.tooMany': 'Too many failed password checks from this address; try again after {time}',
    'pw.tooManyNoTime': 'Too many failed password checks from this address; try again later',

    'tree.byDevice': 'By device',
    'tree.byRegion': 'By region',
    'tree.search': 'Search name or ID',
    'tree.empty': 'No devices',
    'tree.noMatch': 'Nothing matches',
    'tree.loading': 'Loading…',
    'tree.loadFailed': 'Could not load the device tree: {error}',
    'tree.online': 'online',
    'tree.offline': 'offline',
    'tree.addDevice': 'Add all channels of this device to the tour',
    'tree.refresh': 'Refresh',

    'wall.layout': 'Layout',
    'wall.fullscreen': 'Fullscreen',
    'wall.fullscreenWall': 'Wall fullscreen',
    'wall.closeAll': 'Close all',
    'wall.dropHint': 'Drop a channel here or double-click one in the tree',
    'pane.idle': 'Idle',
    'pane.connecting': 'Connecting',
    'pane.playing': 'Playing',
    'pane.retry': 'Retry',
    'pane.close': 'Close',
    'pane.ptz': 'PTZ control',
    'pane.fullscreen': 'Fullscreen',
    'pane.noFrames': 'No video received',
    'pane.stalled': 'Video stream interrupted',
    'pane.connectionLost': 'Connection lost',
    'pane.hlsError': 'HLS playback failed',
    'pane.webrtcUnsupported': 'WebRTC is not supported by this browser',

    'ptz.title': 'PTZ',
    'ptz.up': 'Up', 'ptz.down': 'Down', 'ptz.left': 'Left', 'ptz.right': 'Right',
    'ptz.upLeft': 'Up left', 'ptz.upRight': 'Up right', 'ptz.downLeft': 'Down left', 'ptz.downRight': 'Down right',
    'ptz.zoomIn': 'Zoom in', 'ptz.zoomOut': 'Zoom out',
    'ptz.speed': 'Speed',
    'ptz.failed': 'PTZ failed: {error}',

    'tour.title': 'Tour',
    'tour.select': 'Select channels',
    'tour.selectDone': 'Done',
    'tour.selected': '{n} channels selected',
    'tour.interval': 'Interval (s)',
    'tour.start': 'Start tour',
    'tour.stop': 'Stop tour',
    'tour.clear': 'Clear',
    'tour.running': 'Touring: page {page}/{pages}',
    'tour.needChannels': 'Tick some channels in the tree first',
    'tour.badInterval': 'The interval must be 5–3600 seconds',

    'status.devices': 'Devices',
    'status.channels': 'Channels',
    'status.online': 'online',
    'status.events': 'Live status',
    'status.eventsOk': 'connected',
    'status.eventsDown': 'reconnecting',

    'pb.channel': 'Channel',
    'pb.pickChannel': 'Double-click a channel in the tree',
    'pb.day': 'Day',
    'pb.query': 'Search',
    'pb.querying': 'Searching…',
    'pb.noRecords': 'No recordings on this day',
    'pb.records': '{n} recordings',
    'pb.pause': 'Pause',
    'pb.resume': 'Resume',
    'pb.stop': 'Stop',
    'pb.speed': 'Speed',
    'pb.clickTimeline': 'Click a recording on the timeline to play it',
    'pb.notRecorded': 'Nothing recorded at that time',
    'pb.download': 'Download',
    'pb.downloadRange': 'Download range',
    'pb.from': 'From',
    'pb.to': 'To',
    'pb.downloadStart': 'Download',
    'pb.downloadSpeed': 'Download speed',
    'pb.downloading': 'Downloading {pct}%',
    'pb.downloadDone': 'Download finished',
    'pb.downloadFailed': 'Download failed: {error}',
    'pb.downloadLink': 'Save file',
    'pb.badRange': 'Choose a valid range (end after start)',
    'pb.state': 'State',
    'pb.ended': 'Playback ended',

    'err.network': 'Cannot reach the server',
    'err.forbidden': 'Not allowed',
    'err.unknown': 'Request failed ({status})',
    'err.audit': 'The audit log cannot be written, so access is refused; contact an administrator',
    'err.shuttingDown': 'The console is shutting down; try again shortly',
    'common.close': 'Close',
  },
};

const storageKey = 'sharpeyes.lang';
let lang = 'zh';
try {
  const saved = localStorage.getItem(storageKey);
  if (saved && table[saved]) lang = saved;
} catch { /* storage disabled: stay Chinese */ }

const listeners = new Set();

/** t returns the string for key in the current language, {params} filled in. */
export function t(key, params) {
  let s = table[lang][key] ?? table.zh[key] ?? key;
  if (params) s = s.replace(/\{(\w+)\}/g, (m, k) => (k in params ? String(params[k]) : m));
  return s;
}

/** getLang is 'zh' or 'en'. */
export function getLang() { return lang; }

/** setLang switches the language, remembers it and re-translates the page. */
export function setLang(l) {
  if (!table[l] || l === lang) return;
  lang = l;
  try { localStorage.setItem(storageKey, l); } catch { /* ignore */ }
  applyI18n(document);
  for (const fn of listeners) fn(l);
}

/** onLangChange registers fn to run after every language switch. */
export function onLangChange(fn) { listeners.add(fn); return () => listeners.delete(fn); }

/**
 * applyI18n fills elements marked data-i18n (text), data-i18n-title,
 * data-i18n-placeholder and data-i18n-aria under root.
 */
export function applyI18n(root) {
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
  document.title = t('app.title');
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-title]')) {
    el.title = t(el.dataset.i18nTitle);
    el.setAttribute('aria-label', el.title);
  }
  for (const el of root.querySelectorAll('[data-i18n-placeholder]')) el.placeholder = t(el.dataset.i18nPlaceholder);
  for (const el of root.querySelectorAll('[data-i18n-aria]')) el.setAttribute('aria-label', t(el.dataset.i18nAria));
}

/** formatTime shows a Date as local date and time in the current language. */
export function formatTime(d) {
  return d.toLocaleString(lang === 'zh' ? 'zh-CN' : 'en-GB', { hour12: false });
}

export const languages = Object.keys(table);
