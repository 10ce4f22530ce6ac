// The article's section 3.1 example: a package-level registry with Register and
// Init and no way to remove an entry.
package handlers

// ❌ 危险:全局 map 注册,无生命周期管理
var handlers = make(map[string]func())

func Register(name string, f func()) {
	handlers[name] = f // 无去重、无清理钩子
}

func onSaveHandler() {}

func Init() {
	Register("onSave", onSaveHandler) // 仅注册,无 unregister 调用点
}
