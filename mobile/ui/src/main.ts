// Entry point of the operator app's UI.
import { App } from "./app";
import "./styles.css";

const root = document.getElementById("app");
if (root) {
  const app = new App(root);
  void app.start();
}
