// Loads a classic (UMD) script such as a vendored SDK once, however many modules ask for it.

const loading = new Map();

export function loadScript(src) {
  if (!loading.has(src)) {
    const promise = new Promise((resolve, reject) => {
      const script = document.createElement('script');
      script.src = src;
      script.async = true;
      script.onload = () => resolve();
      script.onerror = () => {
        loading.delete(src);
        script.remove();
        reject(new Error(`Could not load ${src}: run \`npm ci && npm run build\` on the server.`));
      };
      document.head.appendChild(script);
    });
    loading.set(src, promise);
  }
  return loading.get(src);
}
