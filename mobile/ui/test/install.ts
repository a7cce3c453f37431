import { installFakeBackend } from "./fake-backend";

installFakeBackend();
