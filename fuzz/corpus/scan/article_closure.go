// The article's section 1 examples: registerHandler captures *HeavyStruct in a
// closure kept by a package-level map; setupSafeHandler copies the field it needs.
package closure

import "fmt"

type HeavyStruct struct {
	ID      int
	Payload []byte
}

var handlers = make(map[string]func())

func registerHandler(name string, data *HeavyStruct) {
	// ❌ 危险:闭包捕获了 *HeavyStruct
	handlers[name] = func() {
		fmt.Println(data.ID) // 引用 data
	}
}

func unregisterHandler(name string) {
	delete(handlers, name)
}

// 调用方负责构造无捕获函数:
func setupSafeHandler(data *HeavyStruct) func() {
	id := data.ID // 复制必要字段,避免捕获整个结构体
	return func() {
		fmt.Println("Processing ID:", id) // 仅引用栈拷贝,无泄漏风险
	}
}
