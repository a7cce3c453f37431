// The iOS half of `switchboard-push` (Rust side: src/platform/mobile.rs).
//
// - Asks for permission, registers for remote notifications and forwards the APNs device
//   token (hex) to Rust.
// - Registers the CHAT_REQUEST category (Accept / Queue / Decline) and forwards every action
//   the operator takes, with the push's `switchboard.action_token` and `chat_id`.
// - On a `clear` background push, removes the chat's delivered notification (APNs gives a
//   notification sent with `apns-collapse-id: chat-<id>` that request identifier).
//
// Everything goes to Rust over the channel `start` hands over; what happens before that (a
// cold launch from an action) is queued.

import ObjectiveC.runtime
import SwiftRs
import Tauri
import UIKit
import UserNotifications
import WebKit

struct StartArgs: Decodable {
  let handler: Channel
}

class PushPlugin: Plugin, UNUserNotificationCenterDelegate {
  /// The live plugin, for the app delegate methods added below.
  static weak var shared: PushPlugin?

  private var channel: Channel?
  private var pending: [JsonObject] = []
  /// The delegate before us (tauri-plugin-notification's), kept for local notifications.
  private weak var previousDelegate: UNUserNotificationCenterDelegate?

  override init() {
    super.init()
    PushPlugin.shared = self
    // The delegate must be set before launch finishes, or a cold launch from an action
    // loses the response.
    let center = UNUserNotificationCenter.current()
    previousDelegate = center.delegate
    center.delegate = self
    let accept = UNNotificationAction(identifier: "ACCEPT", title: "Accept", options: [.foreground])
    let queue = UNNotificationAction(identifier: "QUEUE", title: "Queue", options: [])
    let decline = UNNotificationAction(
      identifier: "DECLINE", title: "Decline", options: [.destructive])
    center.setNotificationCategories([
      UNNotificationCategory(
        identifier: "CHAT_REQUEST", actions: [accept, queue, decline], intentIdentifiers: [],
        options: [])
    ])
    // The app delegate exists once UIApplicationMain has run.
    NotificationCenter.default.addObserver(
      forName: UIApplication.didFinishLaunchingNotification, object: nil, queue: .main
    ) { _ in AppDelegateHooks.install() }
  }

  /// Rust hands over its channel (once the app is ready): flush the queue, then register.
  @objc public func start(_ invoke: Invoke) throws {
    let args = try invoke.parseArgs(StartArgs.self)
    invoke.resolve()
    DispatchQueue.main.async {
      self.channel = args.handler
      let queued = self.pending
      self.pending = []
      queued.forEach { args.handler.send($0) }
      AppDelegateHooks.install()
      UNUserNotificationCenter.current().requestAuthorization(options: [.alert, .sound, .badge]) {
        granted, error in
        if let error = error {
          Logger.error("push: authorization failed: \(error.localizedDescription)")
        }
        // Register even when alerts are refused: background `clear` pushes still work.
        DispatchQueue.main.async { UIApplication.shared.registerForRemoteNotifications() }
      }
    }
  }

  /// The signed-in server (Android needs it to answer actions without the app; iOS launches
  /// the app for every action, so Rust always answers).
  @objc public func setServer(_ invoke: Invoke) {
    invoke.resolve()
  }

  /// Sends to Rust, or queues until `start`.
  func send(_ message: JsonObject) {
    DispatchQueue.main.async {
      if let channel = self.channel {
        channel.send(message)
      } else {
        self.pending.append(message)
      }
    }
  }

  func didRegister(deviceToken: Data) {
    let hex = deviceToken.map { String(format: "%02x", $0) }.joined()
    send(["kind": "token", "platform": "apns", "token": hex])
  }

  /// A background push: `clear` removes the chat's notification.
  func didReceiveRemote(_ userInfo: [AnyHashable: Any], completion: @escaping (UIBackgroundFetchResult) -> Void) {
    guard let data = userInfo["switchboard"] as? [String: Any],
      data["type"] as? String == "clear",
      let chatId = data["chat_id"].map({ "\($0)" })
    else {
      completion(.noData)
      return
    }
    let id = "chat-\(chatId)"
    let center = UNUserNotificationCenter.current()
    center.getDeliveredNotifications { delivered in
      // By identifier (apns-collapse-id), thread, or the payload's chat id.
      var ids = Set([id])
      for n in delivered {
        let other = (n.request.content.userInfo["switchboard"] as? [String: Any])?["chat_id"]
        if n.request.content.threadIdentifier == id || other.map({ "\($0)" }) == chatId {
          ids.insert(n.request.identifier)
        }
      }
      center.removeDeliveredNotifications(withIdentifiers: Array(ids))
      completion(.newData)
    }
  }

  // MARK: UNUserNotificationCenterDelegate

  func userNotificationCenter(
    _ center: UNUserNotificationCenter, willPresent notification: UNNotification,
    withCompletionHandler completionHandler: @escaping (UNNotificationPresentationOptions) -> Void
  ) {
    if notification.request.content.categoryIdentifier == "CHAT_REQUEST" {
      completionHandler([])  // in the foreground the UI rings
    } else if let previous = previousDelegate,
      previous.responds(
        to: #selector(
          UNUserNotificationCenterDelegate.userNotificationCenter(_:willPresent:withCompletionHandler:)))
    {
      previous.userNotificationCenter?(
        center, willPresent: notification, withCompletionHandler: completionHandler)
    } else {
      completionHandler([])
    }
  }

  func userNotificationCenter(
    _ center: UNUserNotificationCenter, didReceive response: UNNotificationResponse,
    withCompletionHandler completionHandler: @escaping () -> Void
  ) {
    let content = response.notification.request.content
    guard content.categoryIdentifier == "CHAT_REQUEST" else {
      if let previous = previousDelegate,
        previous.responds(
          to: #selector(
            UNUserNotificationCenterDelegate.userNotificationCenter(_:didReceive:withCompletionHandler:)))
      {
        previous.userNotificationCenter?(
          center, didReceive: response, withCompletionHandler: completionHandler)
      } else {
        completionHandler()
      }
      return
    }
    let action = response.actionIdentifier
    if ["ACCEPT", "QUEUE", "DECLINE"].contains(action),
      let data = content.userInfo["switchboard"] as? [String: Any],
      let token = data["action_token"] as? String
    {
      send([
        "kind": "action", "action": action, "actionToken": token,
        "chatId": data["chat_id"].map { "\($0)" } ?? "",
      ])
    }
    completionHandler()
  }
}

/// The app delegate (tao's) has no remote-notification methods: add ours to its class.
enum AppDelegateHooks {
  private static var installed = false

  static func install() {
    guard !installed, let delegate = UIApplication.shared.delegate else { return }
    installed = true
    let target: AnyClass = type(of: delegate)
    for selector in [
      #selector(
        PushAppDelegateMethods.application(_:didRegisterForRemoteNotificationsWithDeviceToken:)),
      #selector(
        PushAppDelegateMethods.application(_:didFailToRegisterForRemoteNotificationsWithError:)),
      #selector(
        PushAppDelegateMethods.application(_:didReceiveRemoteNotification:fetchCompletionHandler:)),
    ] {
      guard let method = class_getInstanceMethod(PushAppDelegateMethods.self, selector) else {
        continue
      }
      if !class_addMethod(
        target, selector, method_getImplementation(method), method_getTypeEncoding(method))
      {
        Logger.error("push: the app delegate already implements \(selector); not replaced")
      }
    }
  }
}

/// Bodies for the methods added to the app delegate; they run with the delegate as `self`,
/// so they use nothing of their own.
class PushAppDelegateMethods: NSObject {
  @objc func application(
    _ application: UIApplication, didRegisterForRemoteNotificationsWithDeviceToken deviceToken: Data
  ) {
    PushPlugin.shared?.didRegister(deviceToken: deviceToken)
  }

  @objc func application(
    _ application: UIApplication, didFailToRegisterForRemoteNotificationsWithError error: Error
  ) {
    Logger.error("push: APNs registration failed: \(error.localizedDescription)")
  }

  @objc func application(
    _ application: UIApplication, didReceiveRemoteNotification userInfo: [AnyHashable: Any],
    fetchCompletionHandler completionHandler: @escaping (UIBackgroundFetchResult) -> Void
  ) {
    guard let plugin = PushPlugin.shared else {
      completionHandler(.noData)
      return
    }
    plugin.didReceiveRemote(userInfo, completion: completionHandler)
  }
}

@_cdecl("init_plugin_switchboard_push")
func initPlugin() -> Plugin {
  return PushPlugin()
}
