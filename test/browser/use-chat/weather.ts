// The client-side tool of the round-trip tests, shared by the pages and the tests that check them.

/** get_weather as the relay receives it: a JSON Schema definition, run in the page. */
export const WEATHER_TOOL = {
  name: "get_weather",
  description: "The current weather in a city.",
  inputSchema: {
    type: "object",
    properties: { city: { type: "string" } },
    required: ["city"],
  },
};

/** What the page's get_weather returns: canned, so a test knows what must go upstream. */
export const WEATHER = { city: "Paris", forecast: "sunny", temperatureC: 18 };
