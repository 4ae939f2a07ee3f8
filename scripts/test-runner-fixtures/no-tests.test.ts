// Fixture: a test file that registers no test.
export const nothing = 0;
