// The console's own behaviour: the copy buttons (the rest is htmx).
document.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-copy]");
  if (!button) return;
  const text = document.getElementById(button.dataset.copy).innerText;
  const said = button.parentElement.querySelector(".copied");
  try {
    await navigator.clipboard.writeText(text);
    if (said) said.textContent = "Copied.";
  } catch (error) {
    if (said) said.textContent = "The browser did not allow copying: select the text instead.";
  }
});
