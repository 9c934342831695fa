/// <reference types="vite/client" />

/** MapLibre's CSP build (client/ui/tile-map.tsx): the library's API, its worker loaded from a URL. */
declare module 'maplibre-gl/dist/maplibre-gl-csp.js' {
  const maplibregl: typeof import('maplibre-gl');
  export default maplibregl;
}
