// A terminal recording's page: asciinema-player on the recording's download (asciicast v2).
(() => {
  const box = document.getElementById("recording-player");
  if (!box) return;
  AsciinemaPlayer.create(box.dataset.src, box, { autoPlay: true, idleTimeLimit: 1, fit: "width" });
})();
