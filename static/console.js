// A stale CSRF token or an expired session must not swap an error page into a fragment.
document.addEventListener("htmx:responseError", (event) => {
  const status = event.detail.xhr.status;
  if (status === 403 || status === 401) {
    const notice = document.getElementById("session-notice") || document.createElement("div");
    notice.id = "session-notice";
    notice.className = "banner banner-error";
    notice.setAttribute("role", "alert");
    notice.textContent = "Your session expired or this page is out of date — reload the page.";
    document.body.prepend(notice);
  }
});
