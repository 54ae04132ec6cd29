// Route meta every page may set with definePageMeta (read by
// app/middleware/auth.global.ts):
//   public: true   -> reachable signed out (sign-in page, checkout results...)
//   role: 'ADMIN'  -> operators only; others are sent to /forbidden
declare module '#app' {
  interface PageMeta {
    public?: boolean
    role?: 'ADMIN'
  }
}

export {}
