// The terminal page: xterm.js on the console's WebSocket (console/terminals/consumers.py).
// Binary frames carry keystrokes one way and output the other; a text frame carries a resize or the reason it closed.
(() => {
  const box = document.getElementById("terminal");
  if (!box) return;
  const state = document.getElementById("terminal-state");
  const term = new Terminal({ cursorBlink: true, scrollback: 5000 });
  const fit = new FitAddon.FitAddon();
  term.loadAddon(fit);
  term.open(box);
  fit.fit();
  const url = new URL(box.dataset.socket, location.href);
  url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
  url.searchParams.set("cols", term.cols);
  url.searchParams.set("rows", term.rows);
  const socket = new WebSocket(url);
  socket.binaryType = "arraybuffer";
  const encoder = new TextEncoder();
  const sendSize = () => {
    if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ resize: [term.cols, term.rows] }));
  };
  socket.onopen = () => {
    state.textContent = "Connected.";
    sendSize();
    term.focus();
  };
  socket.onmessage = (event) => {
    if (typeof event.data === "string") {
      const said = JSON.parse(event.data);
      const code = said.exit_code === null || said.exit_code === undefined ? "" : ` (exit code ${said.exit_code})`;
      state.textContent = `Closed: ${said.closed}${code}.`;
      box.dataset.closed = said.closed;
      return;
    }
    term.write(new Uint8Array(event.data));
  };
  socket.onclose = () => {
    if (!box.dataset.closed) state.textContent = "Closed.";
    box.dataset.ended = "1";
  };
  term.onData((data) => {
    if (socket.readyState === WebSocket.OPEN) socket.send(encoder.encode(data));
  });
  term.onResize(sendSize);
  new ResizeObserver(() => fit.fit()).observe(box);
})();
