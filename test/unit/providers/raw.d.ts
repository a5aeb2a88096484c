// Vite's `?raw` suffix imports a file's text as a string; it works inside the workers pool.
declare module "*?raw" {
  const content: string;
  export default content;
}
