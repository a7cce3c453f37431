// FCM: data-only messages (type, chat_id, action_token, action_expires_at, title, body,
// category), so the app shows the ring itself, with Accept / Queue / Decline, and cancels it
// on `clear`. The notification tag is the collapse id, "chat-<id>".

package com.switchboard.push

import android.Manifest
import android.app.NotificationChannel
import android.app.NotificationManager
import android.app.PendingIntent
import android.content.BroadcastReceiver
import android.content.Context
import android.content.Intent
import android.content.pm.PackageManager
import android.os.Build
import android.util.Log
import androidx.core.app.NotificationCompat
import androidx.core.app.NotificationManagerCompat
import androidx.core.content.ContextCompat
import com.google.firebase.messaging.FirebaseMessagingService
import com.google.firebase.messaging.RemoteMessage
import java.net.HttpURLConnection
import java.net.URL
import kotlin.concurrent.thread
import org.json.JSONObject

class SwitchboardMessagingService : FirebaseMessagingService() {
  companion object {
    const val CHANNEL = "chat_requests"
    const val EXTRA_ACTION = "switchboard.action"
    const val EXTRA_TOKEN = "switchboard.action_token"
    const val EXTRA_CHAT = "switchboard.chat_id"
    private const val ID = 1 // one notification per tag

    fun ensureChannel(context: Context) {
      if (Build.VERSION.SDK_INT < 26) return
      val channel =
        NotificationChannel(CHANNEL, "Chat requests", NotificationManager.IMPORTANCE_HIGH)
      context.getSystemService(NotificationManager::class.java).createNotificationChannel(channel)
    }

    fun cancel(context: Context, chatId: String) =
      NotificationManagerCompat.from(context).cancel("chat-$chatId", ID)
  }

  override fun onNewToken(token: String) {
    PushPlugin.sendToken(token)
  }

  override fun onMessageReceived(message: RemoteMessage) {
    val data = message.data
    val chatId = data["chat_id"] ?: return
    when (data["type"]) {
      "ring" -> ring(chatId, data)
      "clear" -> cancel(this, chatId)
    }
  }

  private fun ring(chatId: String, data: Map<String, String>) {
    val token = data["action_token"] ?: return
    if (Build.VERSION.SDK_INT >= 33 &&
      ContextCompat.checkSelfPermission(this, Manifest.permission.POST_NOTIFICATIONS) !=
      PackageManager.PERMISSION_GRANTED
    ) return
    ensureChannel(this)
    val flags = PendingIntent.FLAG_UPDATE_CURRENT or PendingIntent.FLAG_IMMUTABLE
    val code = chatId.hashCode() * 4
    val launch = packageManager.getLaunchIntentForPackage(packageName)
    fun open(action: String?, n: Int): PendingIntent? {
      val intent = launch?.cloneFilter() ?: return null
      intent.flags = Intent.FLAG_ACTIVITY_NEW_TASK or Intent.FLAG_ACTIVITY_SINGLE_TOP
      if (action != null) {
        intent.putExtra(EXTRA_ACTION, action).putExtra(EXTRA_TOKEN, token).putExtra(EXTRA_CHAT, chatId)
      }
      return PendingIntent.getActivity(this, code + n, intent, flags)
    }
    fun broadcast(action: String, n: Int): PendingIntent {
      val intent = Intent(this, ActionReceiver::class.java)
        .putExtra(EXTRA_ACTION, action).putExtra(EXTRA_TOKEN, token).putExtra(EXTRA_CHAT, chatId)
      return PendingIntent.getBroadcast(this, code + n, intent, flags)
    }
    val builder = NotificationCompat.Builder(this, CHANNEL)
      .setSmallIcon(applicationInfo.icon)
      .setContentTitle(data["title"] ?: "Incoming chat request")
      .setContentText(data["body"])
      .setPriority(NotificationCompat.PRIORITY_HIGH)
      .setCategory(NotificationCompat.CATEGORY_MESSAGE)
      .setAutoCancel(true)
      .setContentIntent(open(null, 0))
      .addAction(0, "Accept", open("ACCEPT", 1))
      .addAction(0, "Queue", broadcast("QUEUE", 2))
      .addAction(0, "Decline", broadcast("DECLINE", 3))
    // The ring goes when its action token stops working.
    data["action_expires_at"]?.toLongOrNull()?.let {
      val left = it - System.currentTimeMillis()
      if (left > 0) builder.setTimeoutAfter(left)
    }
    NotificationManagerCompat.from(this).notify("chat-$chatId", ID, builder.build())
  }
}

/** Queue and Decline: to Rust when the app runs, else answered here with the action token. */
class ActionReceiver : BroadcastReceiver() {
  override fun onReceive(context: Context, intent: Intent) {
    val action = intent.getStringExtra(SwitchboardMessagingService.EXTRA_ACTION) ?: return
    val token = intent.getStringExtra(SwitchboardMessagingService.EXTRA_TOKEN) ?: return
    val chatId = intent.getStringExtra(SwitchboardMessagingService.EXTRA_CHAT) ?: ""
    SwitchboardMessagingService.cancel(context, chatId)
    if (PushPlugin.isRunning()) {
      PushPlugin.sendAction(action, token, chatId)
      return
    }
    val server = PushPlugin.prefs(context).getString("server", null) ?: return
    val result = goAsync()
    thread {
      try {
        val conn = URL("$server/api/push/action").openConnection() as HttpURLConnection
        conn.requestMethod = "POST"
        conn.connectTimeout = 10_000
        conn.readTimeout = 10_000
        conn.doOutput = true
        conn.setRequestProperty("Content-Type", "application/json")
        val body = JSONObject().put("action_token", token).put("action", action.lowercase())
        conn.outputStream.use { it.write(body.toString().toByteArray()) }
        Log.i("SwitchboardPush", "$action on chat $chatId: HTTP ${conn.responseCode}")
        conn.disconnect()
      } catch (e: Exception) {
        Log.w("SwitchboardPush", "$action on chat $chatId failed", e)
      } finally {
        result.finish()
      }
    }
  }
}
