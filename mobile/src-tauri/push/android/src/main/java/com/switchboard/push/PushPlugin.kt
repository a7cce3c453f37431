// The Android half of `switchboard-push` (Rust side: src/platform/mobile.rs).
//
// Talks to Rust over the channel `start` hands over; what happens before that (the FCM token,
// an Accept that launched the app) is queued. Notifications themselves are shown by
// SwitchboardMessagingService, whose actions come back here (Accept, which opens the app) or to
// ActionReceiver (Queue, Decline).

package com.switchboard.push

import android.Manifest
import android.app.Activity
import android.content.Context
import android.content.Intent
import android.content.pm.PackageManager
import android.os.Build
import android.webkit.WebView
import androidx.core.app.ActivityCompat
import androidx.core.content.ContextCompat
import app.tauri.annotation.Command
import app.tauri.annotation.InvokeArg
import app.tauri.annotation.TauriPlugin
import app.tauri.plugin.Channel
import app.tauri.plugin.Invoke
import app.tauri.plugin.JSObject
import app.tauri.plugin.Plugin
import com.google.firebase.messaging.FirebaseMessaging

@InvokeArg
class StartArgs {
  lateinit var handler: Channel
}

@InvokeArg
class SetServerArgs {
  var server: String? = null
}

@TauriPlugin
class PushPlugin(private val activity: Activity) : Plugin(activity) {
  companion object {
    private var channel: Channel? = null
    private val pending = mutableListOf<JSObject>()

    /** Sends to Rust, or queues until `start`. */
    fun send(message: JSObject) {
      synchronized(this) {
        val live = channel
        if (live != null) live.send(message) else pending.add(message)
      }
    }

    /** Whether Rust is running in this process (else an action is answered natively). */
    fun isRunning(): Boolean = synchronized(this) { channel != null }

    fun sendToken(token: String) =
      send(JSObject().put("kind", "token").put("platform", "fcm").put("token", token))

    fun sendAction(action: String, actionToken: String, chatId: String) =
      send(
        JSObject()
          .put("kind", "action")
          .put("action", action)
          .put("actionToken", actionToken)
          .put("chatId", chatId)
      )

    fun prefs(context: Context) =
      context.getSharedPreferences("switchboard_push", Context.MODE_PRIVATE)
  }

  override fun load(webView: WebView) {
    SwitchboardMessagingService.ensureChannel(activity)
    handleIntent(activity.intent)
  }

  override fun onNewIntent(intent: Intent) {
    handleIntent(intent)
  }

  /** Accept opens the app (Android 12+ forbids starting an activity from a receiver). */
  private fun handleIntent(intent: Intent?) {
    val action = intent?.getStringExtra(SwitchboardMessagingService.EXTRA_ACTION) ?: return
    val token = intent.getStringExtra(SwitchboardMessagingService.EXTRA_TOKEN) ?: return
    val chatId = intent.getStringExtra(SwitchboardMessagingService.EXTRA_CHAT) ?: ""
    intent.removeExtra(SwitchboardMessagingService.EXTRA_ACTION) // once only
    SwitchboardMessagingService.cancel(activity, chatId)
    sendAction(action, token, chatId)
  }

  /** Rust hands over its channel (once the app is ready): flush the queue, then register. */
  @Command
  fun start(invoke: Invoke) {
    val args = invoke.parseArgs(StartArgs::class.java)
    synchronized(PushPlugin) {
      channel = args.handler
      pending.forEach { args.handler.send(it) }
      pending.clear()
    }
    invoke.resolve()
    if (Build.VERSION.SDK_INT >= 33 &&
      ContextCompat.checkSelfPermission(activity, Manifest.permission.POST_NOTIFICATIONS) !=
      PackageManager.PERMISSION_GRANTED
    ) {
      ActivityCompat.requestPermissions(
        activity, arrayOf(Manifest.permission.POST_NOTIFICATIONS), 0x5B
      )
    }
    // onNewToken only fires when the token changes: ask for the current one every start.
    FirebaseMessaging.getInstance().token.addOnSuccessListener { sendToken(it) }
  }

  /** The signed-in server, kept for ActionReceiver when the app is not running. */
  @Command
  fun setServer(invoke: Invoke) {
    val args = invoke.parseArgs(SetServerArgs::class.java)
    prefs(activity).edit().putString("server", args.server).apply()
    invoke.resolve()
  }
}
