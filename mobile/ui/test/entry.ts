// The test build: the fake backend at the IPC boundary first, then the real app.
import "./install";
import "../src/main";
