//! A JSON document parsed into a flat arena, without recursion: DuckDB's
//! serialised parse tree nests one level per operator, so a long `a || b ||
//! …` chain is deeper than a recursive parser (or a recursive drop) allows.

/// One value of the document; containers hold the ids of their children.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Null,
    Bool(bool),
    Number(String),
    Str(String),
    Array(Vec<usize>),
    Object(Vec<(String, usize)>),
}

/// A parsed document; node 0 is the root.
#[derive(Debug, Clone, PartialEq)]
pub struct Tree {
    nodes: Vec<Node>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed JSON at byte {offset}: {what}")]
pub struct JsonError {
    pub offset: usize,
    pub what: &'static str,
}

enum Frame {
    Array(usize),
    Object(usize),
}

impl Tree {
    pub fn parse(text: &str) -> Result<Self, JsonError> {
        let mut parser = Parser { bytes: text.as_bytes(), at: 0, nodes: Vec::new() };
        parser.document()?;
        Ok(Tree { nodes: parser.nodes })
    }

    pub fn root(&self) -> usize {
        0
    }

    pub fn node(&self, id: usize) -> &Node {
        &self.nodes[id]
    }

    /// The child of object `id` under `key`.
    pub fn get(&self, id: usize, key: &str) -> Option<usize> {
        match &self.nodes[id] {
            Node::Object(fields) => fields.iter().find(|(k, _)| k == key).map(|(_, v)| *v),
            _ => None,
        }
    }

    /// The string under `key` of object `id`.
    pub fn str_at(&self, id: usize, key: &str) -> Option<&str> {
        match self.get(id, key).map(|v| &self.nodes[v]) {
            Some(Node::Str(s)) => Some(s),
            _ => None,
        }
    }

    pub fn has(&self, id: usize, key: &str) -> bool {
        self.get(id, key).is_some()
    }

    /// Whether the value under `key` is absent or null.
    pub fn is_null_at(&self, id: usize, key: &str) -> bool {
        matches!(self.get(id, key).map(|v| &self.nodes[v]), None | Some(Node::Null))
    }

    /// The ids of a container's children (empty for scalars).
    pub fn children(&self, id: usize) -> Vec<usize> {
        match &self.nodes[id] {
            Node::Array(items) => items.clone(),
            Node::Object(fields) => fields.iter().map(|(_, v)| *v).collect(),
            _ => Vec::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }
}

struct Parser<'a> {
    bytes: &'a [u8],
    at: usize,
    nodes: Vec<Node>,
}

impl Parser<'_> {
    fn fail<T>(&self, what: &'static str) -> Result<T, JsonError> {
        Err(JsonError { offset: self.at, what })
    }

    fn skip_ws(&mut self) {
        while self.at < self.bytes.len() && matches!(self.bytes[self.at], b' ' | b'\t' | b'\n' | b'\r') {
            self.at += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn expect(&mut self, byte: u8, what: &'static str) -> Result<(), JsonError> {
        self.skip_ws();
        if self.peek() == Some(byte) {
            self.at += 1;
            Ok(())
        } else {
            self.fail(what)
        }
    }

    /// Adds a node as the next child of the innermost open container.
    fn attach(&mut self, stack: &[Frame], key: Option<String>, node: Node) -> usize {
        let id = self.nodes.len();
        self.nodes.push(node);
        match (stack.last(), key) {
            (Some(Frame::Array(parent)), _) => {
                if let Node::Array(items) = &mut self.nodes[*parent] {
                    items.push(id);
                }
            }
            (Some(Frame::Object(parent)), Some(key)) => {
                if let Node::Object(fields) = &mut self.nodes[*parent] {
                    fields.push((key, id));
                }
            }
            _ => {}
        }
        id
    }

    fn document(&mut self) -> Result<(), JsonError> {
        let mut stack: Vec<Frame> = Vec::new();
        let mut key: Option<String> = None;
        loop {
            // A value is expected here.
            self.skip_ws();
            let opened = match self.peek() {
                Some(b'{') => {
                    self.at += 1;
                    let id = self.attach(&stack, key.take(), Node::Object(Vec::new()));
                    stack.push(Frame::Object(id));
                    true
                }
                Some(b'[') => {
                    self.at += 1;
                    let id = self.attach(&stack, key.take(), Node::Array(Vec::new()));
                    stack.push(Frame::Array(id));
                    true
                }
                Some(_) => {
                    let scalar = self.scalar()?;
                    self.attach(&stack, key.take(), scalar);
                    false
                }
                None => return self.fail("unexpected end"),
            };
            // An empty container closes at once; otherwise a member follows.
            if opened {
                self.skip_ws();
                let closer = if matches!(stack.last(), Some(Frame::Object(_))) { b'}' } else { b']' };
                if self.peek() == Some(closer) {
                    self.at += 1;
                    stack.pop();
                } else {
                    if matches!(stack.last(), Some(Frame::Object(_))) {
                        key = Some(self.member_key()?);
                    }
                    continue;
                }
            }
            // After a value: a comma and the next member, or closers.
            loop {
                let Some(top) = stack.last() else {
                    self.skip_ws();
                    return if self.at == self.bytes.len() { Ok(()) } else { self.fail("trailing characters") };
                };
                let in_object = matches!(top, Frame::Object(_));
                self.skip_ws();
                match self.peek() {
                    Some(b',') => {
                        self.at += 1;
                        if in_object {
                            key = Some(self.member_key()?);
                        }
                        break;
                    }
                    Some(b'}') if in_object => {
                        self.at += 1;
                        stack.pop();
                    }
                    Some(b']') if !in_object => {
                        self.at += 1;
                        stack.pop();
                    }
                    _ => return self.fail("expected `,` or a closing bracket"),
                }
            }
        }
    }

    fn member_key(&mut self) -> Result<String, JsonError> {
        self.skip_ws();
        if self.peek() != Some(b'"') {
            return self.fail("expected a member name");
        }
        let key = self.string()?;
        self.expect(b':', "expected `:`")?;
        Ok(key)
    }

    fn scalar(&mut self) -> Result<Node, JsonError> {
        match self.peek() {
            Some(b'"') => Ok(Node::Str(self.string()?)),
            Some(b't') => self.word("true", Node::Bool(true)),
            Some(b'f') => self.word("false", Node::Bool(false)),
            Some(b'n') => self.word("null", Node::Null),
            Some(b'-' | b'0'..=b'9') => {
                let start = self.at;
                while self.peek().is_some_and(|b| matches!(b, b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')) {
                    self.at += 1;
                }
                Ok(Node::Number(String::from_utf8_lossy(&self.bytes[start..self.at]).into_owned()))
            }
            _ => self.fail("expected a value"),
        }
    }

    fn word(&mut self, word: &'static str, node: Node) -> Result<Node, JsonError> {
        if self.bytes[self.at..].starts_with(word.as_bytes()) {
            self.at += word.len();
            Ok(node)
        } else {
            self.fail("expected a literal")
        }
    }

    fn string(&mut self) -> Result<String, JsonError> {
        self.at += 1; // the opening quote
        let mut out: Vec<u8> = Vec::new();
        loop {
            let Some(byte) = self.peek() else { return self.fail("unterminated string") };
            self.at += 1;
            match byte {
                b'"' => break,
                b'\\' => {
                    let Some(escape) = self.peek() else { return self.fail("unterminated escape") };
                    self.at += 1;
                    match escape {
                        b'"' => out.push(b'"'),
                        b'\\' => out.push(b'\\'),
                        b'/' => out.push(b'/'),
                        b'b' => out.push(0x08),
                        b'f' => out.push(0x0c),
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'u' => {
                            let c = self.unicode_escape()?;
                            let mut buf = [0u8; 4];
                            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                        }
                        _ => return self.fail("unknown escape"),
                    }
                }
                _ => out.push(byte),
            }
        }
        String::from_utf8(out).or_else(|_| self.fail("string is not UTF-8"))
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let Some(digits) = self.bytes.get(self.at..self.at + 4) else { return self.fail("short \\u escape") };
        let text = std::str::from_utf8(digits).or_else(|_| self.fail("bad \\u escape"))?;
        let value = u32::from_str_radix(text, 16).or_else(|_| self.fail("bad \\u escape"))?;
        self.at += 4;
        Ok(value)
    }

    fn unicode_escape(&mut self) -> Result<char, JsonError> {
        let first = self.hex4()?;
        let code = if (0xD800..0xDC00).contains(&first) {
            if !self.bytes[self.at..].starts_with(b"\\u") {
                return Ok(char::REPLACEMENT_CHARACTER);
            }
            self.at += 2;
            let second = self.hex4()?;
            if !(0xDC00..0xE000).contains(&second) {
                return Ok(char::REPLACEMENT_CHARACTER);
            }
            0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
        } else {
            first
        };
        Ok(char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_serde_json_parses() {
        let text =
            r#"{"a": [1, -2.5e3, true, false, null, "x\"\u00e9\ud83d\ude00"], "b": {}, "c": [], "d": {"e": "f"}}"#;
        let tree = Tree::parse(text).unwrap();
        let a = tree.get(tree.root(), "a").unwrap();
        let items = tree.children(a);
        assert_eq!(items.len(), 6);
        assert_eq!(tree.node(items[0]), &Node::Number("1".into()));
        assert_eq!(tree.node(items[5]), &Node::Str("x\"é😀".into()));
        assert_eq!(tree.str_at(tree.get(tree.root(), "d").unwrap(), "e"), Some("f"));
        assert!(tree.is_null_at(tree.root(), "missing"));
    }

    #[test]
    fn nests_deeper_than_any_recursive_parser() {
        let depth = 200_000;
        let text = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        let tree = Tree::parse(&text).unwrap();
        assert_eq!(tree.len(), depth);
    }

    #[test]
    fn refuses_malformed_documents() {
        for text in ["", "{", "[1,]", "{\"a\" 1}", "[1] x", "\"open", "{\"a\":}", "tru"] {
            assert!(Tree::parse(text).is_err(), "{text}");
        }
    }
}
