// End-to-end tests start real processes; CLI round trips on 2 cores take seconds, not milliseconds.
jest.setTimeout(120_000);
