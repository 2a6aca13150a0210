// Strings shared by every page: the language switch, the site name, generic errors.
import { register } from '../i18n.js';

register({
  en: {
    'common.site': 'HTTP signaling for WebRTC',
    'common.language': 'Language',
    'common.lang.en': 'en',
    'common.lang.ja': '日本語',
    'common.copy': 'Copy',
    'common.copied': 'Copied',
    'common.copy_failed': 'Could not copy; select the text and copy it by hand.',
    'common.error.permission': 'Permission to use the camera or microphone was denied. Allow it in the browser’s site settings and reload.',
    'common.error.nodevice': 'No camera or microphone was found.',
    'common.error.inuse': 'The device is in use by another application.',
    'common.error.generic': 'Something went wrong: {message}',
    'common.error.insecure': 'Camera and microphone need a secure page (https or localhost).',
  },
  ja: {
    'common.site': 'WebRTC の HTTP シグナリング',
    'common.language': '言語',
    'common.lang.en': 'en',
    'common.lang.ja': '日本語',
    'common.copy': 'コピー',
    'common.copied': 'コピーしました',
    'common.copy_failed': 'コピーできませんでした。テキストを選択して手動でコピーしてください。',
    'common.error.permission': 'カメラまたはマイクの使用が拒否されました。ブラウザのサイト設定で許可してから再読み込みしてください。',
    'common.error.nodevice': 'カメラまたはマイクが見つかりません。',
    'common.error.inuse': 'デバイスは別のアプリケーションが使用中です。',
    'common.error.generic': 'エラーが発生しました: {message}',
    'common.error.insecure': 'カメラとマイクには安全なページ (https または localhost) が必要です。',
  },
});
