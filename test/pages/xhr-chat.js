// The page's own chat, as an axios app sends it: XMLHttpRequest, a JSON string body, asynchronous.
const log = document.querySelector('#log');
const box = document.querySelector('#message');
const messages = [];
function show(role, text) {
  const li = document.createElement('li');
  li.className = role;
  li.textContent = text;
  log.append(li);
}
function post(url, data) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', url);
    xhr.setRequestHeader('Content-Type', 'application/json;charset=utf-8');
    xhr.onload = () => (xhr.status === 200 ? resolve(JSON.parse(xhr.responseText)) : reject(new Error(`HTTP ${xhr.status}`)));
    xhr.onerror = () => reject(new Error('network error'));
    xhr.send(JSON.stringify(data));
  });
}
document.querySelector('#chat').addEventListener('submit', async (event) => {
  event.preventDefault();
  const text = box.value.trim();
  if (!text) return;
  box.value = '';
  messages.push({ role: 'user', content: text });
  show('user', text);
  const reply = await post('/api/chat', { messages }).then((r) => r.reply, (e) => `no answer: ${e.message}`);
  messages.push({ role: 'assistant', content: reply });
  show('assistant', reply);
});
box.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && !event.shiftKey) {
    event.preventDefault();
    document.querySelector('#chat').requestSubmit();
  }
});
