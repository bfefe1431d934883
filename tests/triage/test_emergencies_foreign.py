"""A vital emergency written in another language gets its number first (bot/triage/emergencies_foreign.py).

Sentences as people write them, with context around the phrase of danger; and look-alikes, where the same
ordinary words ("help", "ayuda", "emergency") ask for help with a procedure."""

from __future__ import annotations

import pytest

from bot.triage.emergencies import detect_emergency
from bot.triage.safety.screen import screen


@pytest.mark.parametrize("text, number", [
    ("Hello, my husband hits me and I am scared to go home tonight", "3919"),
    ("please my boyfriend is beating me right now", "3919"),
    ("Hola, mi marido me pega cuando bebe, tengo miedo", "3919"),
    ("o meu companheiro me bate todos os dias", "3919"),
    ("sotul meu ma bate si nu am unde sa merg", "3919"),
    ("kocam beni dövüyor yardım edin", "3919"),
    ("زوجي يضربني ولا أعرف ماذا أفعل", "3919"),
    ("Мой муж бьёт меня каждый вечер", "3919"),
    ("my dad is not breathing what do i do", "15"),
    ("my mother passed out in the kitchen", "15"),
    ("mi abuelo no respira bien, necesito una ambulancia", "15"),
    ("o meu filho desmaiou e não acorda", "15"),
    ("mama nu mai respira", "15"),
    ("babam nefes almıyor", "15"),
    ("ابي لا يتنفس", "15"),
    ("у мамы сердечный приступ", "15"),
    ("I don't want to live anymore, I want to die", "3114"),
    ("ya no aguanto, quiero morirme", "3114"),
    ("estou cansada, quero morrer", "3114"),
    ("nu mai pot, vreau sa mor", "3114"),
    ("artık ölmek istiyorum", "3114"),
    ("أريد أن أموت", "3114"),
    ("я больше не могу, хочу умереть", "3114"),
    ("we are sleeping in the car tonight with the baby", "115"),
    ("no tenemos donde dormir esta noche", "115"),
    ("durmo na rua desde ontem", "115"),
    ("help", "112"),
    ("socorro", "112"),
    ("помогите", "112"),
])
def test_the_number_comes_first_whatever_the_language(text, number):
    found = detect_emergency(text)
    assert found is not None and found.number == number
    assert screen(text, None).certain


@pytest.mark.parametrize("text", [
    "I need help with my CAF account, I can't log in",
    "can you help me with my tax declaration please",
    "I need an emergency appointment at the prefecture for my residence permit",
    "necesito ayuda con mi declaración de la renta",
    "mi esposo me ayuda con el ordenador pero trabaja",
    "preciso de ajuda com o site da CAF",
    "am nevoie de ajutor pentru cererea de alocatie",
    "my husband helps me with the computer but he works all day",
])
def test_help_with_a_procedure_in_another_language_is_not_an_emergency(text):
    assert detect_emergency(text) is None
