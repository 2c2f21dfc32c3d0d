"""Reading a visitor's message before any FAQ answer: its sentences, its vocabulary, red flags, and what it asks for.

The matcher (``chatbot.bot.matcher``) knows *which topic* a text is about. This
package knows the rest of what a clinic must not get wrong: which sentences of
a long message ask something (``sentences``), the everyday words that stand for
the page's terms (``vocabulary``), whether any sentence describes an emergency
in words no regular expression foresaw (``alarms``), and whether the visitor
asks for something a bot must not give, such as a price, a prescription or a
person (``requests``). ``chatbot.bot.answers`` puts them together in a fixed order.
"""
