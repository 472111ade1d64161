// The register's service worker (scope /register/): keeps the app shell (pages' HTML,
// styles, scripts, icons) so the register starts without the network. API answers are
// never cached: prices, stock and payments always come from the server.
const CACHE = "{{ version }}";
const SHELL = {{ shell }};

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

function isShell(url) {
  return url.origin === self.location.origin &&
    !url.pathname.startsWith("/api/") &&
    (url.pathname.startsWith("/static/") || url.pathname.startsWith("/register"));
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || !isShell(url)) return;
  if (request.mode === "navigate") {
    // Pages: the network first (they depend on the session), the kept shell when offline.
    event.respondWith(fetch(request).catch(() => caches.match(url.pathname).then((hit) => hit || caches.match("/register/login"))));
    return;
  }
  // Static files: answer from the cache at once and refresh it behind the scenes.
  event.respondWith(
    caches.open(CACHE).then((cache) =>
      cache.match(request).then((hit) => {
        const fresh = fetch(request).then((response) => {
          if (response.ok) cache.put(request, response.clone());
          return response;
        });
        if (hit) {
          fresh.catch(() => {});
          return hit;
        }
        return fresh;
      }),
    ),
  );
});
