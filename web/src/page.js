// What the bundle's pages share: the result (or the error) written into the page as JSON, for scripted checks
// (e.g. chromium --headless --dump-dom) as well as people.

export function publish() {
  document.getElementById('result').textContent = JSON.stringify(window.liteRtPage);
  document.body.dataset.done = 'true';
}

export function fail(e) {
  const status = document.getElementById('status');
  status.className = 'error';
  status.textContent = `error: ${e && e.message ? e.message : e}`;
  window.liteRtPage = {error: String(e), done: true};
  publish();
}
