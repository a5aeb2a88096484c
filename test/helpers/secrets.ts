// Every secret the tests configure: the suite's outputs and logs are scanned for each of them.
export const SECRETS = {
  openaiKey: "sk-test-OPENAI-3f9a1c7e5b2d",
  anthropicKey: "sk-ant-test-ANTHROPIC-8c4e2a6f",
  tokenAlpha: "tok-ALPHA-91b3e7d5c2a8f4e6",
  tokenBeta: "tok-BETA-27f5c9a1e3b8d6c4",
  tokenGamma: "tok-GAMMA-5d1f8b3e9a7c2e60",
  jwtSecret: "jwt-SECRET-hs256-7c1e9a3f5b2d8e4a6c0f1b3d",
} as const;
