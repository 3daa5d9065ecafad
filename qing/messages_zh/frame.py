"""Chinese of the frame every command shares: qing/cli/app.py, qing/extras.py, qing/files.py, .env (qing/config.py)."""

ZH = {
    "error": "错误",
    "interrupted": "已中断",
    "stopped by {signal}": "被 {signal} 终止",
    "nothing half-written was left behind.": "没有留下写了一半的文件。",
    "the disk is full{where}; free some space or write the output elsewhere with -o.":
        "磁盘已满{where}；请腾出空间，或用 -o 把输出写到别处。",
    "no permission to write or read{where}: {what}; choose another path with -o, or fix its permissions.":
        "没有读写权限{where}：{what}；请用 -o 换一个路径，或修改它的权限。",
    "the disk could not read or write{where} (I/O error); check the drive, then run again.":
        "磁盘读写失败{where}（I/O 错误）；请检查磁盘后重试。",
    "a database is damaged ({reason}); copy it again from the source, or decrypt it again.":
        "数据库已损坏（{reason}）；请从源头重新复制，或重新解密。",
    "`qing {command}` needs {module}, from the {extra} extra: {install}.":
        "`qing {command}` 需要 {module}，它来自 {extra} 扩展：{install}。",
    "unexpected error": "意外错误",
    "this is a bug in qing. Re-run with --verbose for the traceback and report it.":
        "这是 qing 的缺陷。请加 --verbose 重新运行以查看调用栈，并报告给我们。",
    "pip install 'qing[{extra}]' (or -e \".[{extra}]\" in the repo)":
        "pip install 'qing[{extra}]'（在仓库里用 -e \".[{extra}]\"）",
    "input file": "输入文件",
    "{what} {path} does not exist.": "{what} {path} 不存在。",
    "{what} {path} is not a file.": "{what} {path} 不是文件。",
    "{what} {path} is not readable; check its permissions.": "{what} {path} 不可读；请检查它的权限。",
    "{path} is not complete JSON ({reason}); the {what} may be truncated.":
        "{path} 不是完整的 JSON（{reason}）；{what}可能被截断了。",
    "{path} is not a {what} (not a JSON object).": "{path} 不是 {what}（不是 JSON 对象）。",
    "output {output} is the input {input}; choose another output with -o.":
        "输出 {output} 就是输入 {input}；请用 -o 另选输出。",
    "output {output} holds the input {input}; choose another output with -o.":
        "输出 {output} 里有输入 {input}；请用 -o 另选输出。",
    " and {count} more": " 等另外 {count} 个",
    "{directory} holds files that {command} did not write ({shown}); --force replaces only its own output: choose "
    "another directory with -o.":
        "{directory} 里有不是 {command} 写的文件（{shown}）；--force 只替换它自己的输出：请用 -o 另选目录。",
    "output {path} already exists; pass --force to overwrite it or -o to choose another path.":
        "输出 {path} 已存在；加 --force 覆盖它，或用 -o 另选路径。",
    "output {path} is a directory; give a file path with -o.": "输出 {path} 是一个目录；请用 -o 给出文件路径。",
    "cannot write in {directory} ({reason}); choose another output with -o.":
        "无法写入 {directory}（{reason}）；请用 -o 另选输出。",
    "{path} is not UTF-8 text (PowerShell's > writes UTF-16); save it again as UTF-8, e.g. Set-Content .env "
    "-Encoding utf8.":
        "{path} 不是 UTF-8 文本（PowerShell 的 > 会写成 UTF-16）；请另存为 UTF-8，"
        "例如 Set-Content .env -Encoding utf8。",
    "database": "数据库",
    "profile database": "资料数据库",
    "dataset file": "数据集文件",
    "messages file": "消息文件",
    "replacements file": "替换规则文件",
}
